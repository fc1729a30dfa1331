//! Join requests for the owner: pending ones first, each approved or rejected with a form post that
//! works before hydration too. The API refuses anyone but the signed-in owner.

use alloy_primitives::Address;
use leptos::prelude::*;

use super::format::utc;
use crate::unions::{DecideJoin, JoinAgent, JoinStatus, join_requests};

#[component]
pub fn JoinRequests(union: Address, block: ReadSignal<Option<u64>>) -> impl IntoView {
    let decide = ServerAction::<DecideJoin>::new();
    let requests = Resource::new(move || (decide.version().get(), block.get()), move |_| join_requests(union));
    view! {
        <section class="rounded-2xl border border-stone-200 bg-white p-4 shadow-sm" aria-labelledby="requests-heading">
            <h2 id="requests-heading" class="text-lg font-semibold">"Join requests"</h2>
            {move || decide.value().get().map(|answer| super::or_alert(answer, |_| ().into_any()))}
            <Transition fallback=|| view! { <p class="mt-2 text-stone-500">"Loading requests…"</p> }>
                {move || Suspend::new(async move {
                    super::or_alert(requests.await, |queue| {
                        let mut list = queue.requests;
                        list.sort_by_key(|r| (r.status.queue_rank(), -r.created_at));
                        view! {
                            <AgentNotice agent=queue.agent />
                            <RequestList union list decide />
                        }
                            .into_any()
                    })
                })}
            </Transition>
        </section>
    }
}

/// Why approved requests would wait: nothing to say while this server's agent serves the union.
#[component]
fn AgentNotice(agent: Option<JoinAgent>) -> impl IntoView {
    let reason = match agent {
        // Serving it, or unknown for now (the next block asks again): nothing to warn about.
        Some(JoinAgent { is_union_agent: Some(true) | None, .. }) => return None,
        Some(JoinAgent { address, is_union_agent: Some(false) }) => format!(
            "Approved requests wait: this server adds members with its join-part agent {}, which is not an \
             agent of this union. Add it on chain with addJoinPartAgent to let them through.",
            address.to_checksum(None)
        ),
        None => {
            "This server runs no join-part agent: approved requests are not added to the union from here.".to_owned()
        }
    };
    Some(view! {
        <p role="status" class="mt-2 rounded-xl border border-amber-200 bg-amber-50 p-3 text-sm text-amber-900" data-agent-notice>
            {reason}
        </p>
    })
}

#[component]
fn RequestList(union: Address, list: Vec<JoinStatus>, decide: ServerAction<DecideJoin>) -> impl IntoView {
    if list.is_empty() {
        return view! { <p class="mt-2 text-sm text-stone-500">"No one has asked to join yet."</p> }.into_any();
    }
    let rows = list
        .into_iter()
        .map(|request| {
            let member = request.member.to_checksum(None);
            let decision = |verb: &'static str, label: &'static str, style: &'static str| {
                let member = member.clone();
                view! {
                    <ActionForm action=decide>
                        <input type="hidden" name="union" value=union.to_checksum(None) />
                        <input type="hidden" name="member" value=member.clone() />
                        <input type="hidden" name="decision" value=verb />
                        <button type="submit" class=format!("rounded-full px-3 py-1 text-xs font-medium {style}") aria-label=format!("{label} {member}")>
                            {label}
                        </button>
                    </ActionForm>
                }
            };
            let (can_approve, can_reject) = (request.status.can_approve(), request.status.can_reject());
            let how = if request.by_secret { "with a shared secret" } else { "asked for approval" };
            view! {
                <li class="flex flex-wrap items-center justify-between gap-2 py-2" data-request=member.clone()>
                    <div>
                        <p class="break-all font-mono text-xs">{member.clone()}</p>
                        <p class="text-xs text-stone-500">{format!("{how}, {}", utc(request.created_at.max(0) as u64))}</p>
                    </div>
                    <div class="flex items-center gap-2">
                        <span class="rounded-full bg-stone-100 px-2 py-0.5 text-xs">{request.status.as_str()}</span>
                        {can_approve.then(|| decision("approve", "Approve", "bg-emerald-700 text-white hover:bg-emerald-800"))}
                        {can_reject.then(|| decision("reject", "Reject", "border border-stone-300 text-stone-700 hover:bg-stone-100"))}
                    </div>
                </li>
            }
        })
        .collect_view();
    view! { <ul class="mt-2 divide-y divide-stone-100">{rows}</ul> }.into_any()
}
