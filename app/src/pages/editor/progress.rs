//! One transaction's progress, in words: waiting for the signature, pending with its hash, confirmed,
//! or failed with the reason the wallet or the contract gave.

use leptos::prelude::*;

use crate::wallet::{TxProgress, UnsignedTx, Wallet};

/// A transaction step of the editor: what it is called, and where it stands.
#[derive(Clone, Copy)]
pub struct Step {
    pub progress: RwSignal<TxProgress>,
    /// What the transaction does ("Publishing", "Deploying the Data Union").
    pub label: RwSignal<&'static str>,
}

impl Step {
    pub fn new() -> Self {
        Self { progress: RwSignal::new(TxProgress::Idle), label: RwSignal::new("") }
    }

    pub fn is_busy(&self) -> bool {
        self.progress.get().is_busy()
    }

    /// Sends `tx` through the wallet, reporting each step; answers the block it was confirmed in.
    pub async fn send(&self, wallet: Wallet, label: &'static str, tx: UnsignedTx) -> Option<u64> {
        self.label.set(label);
        let progress = self.progress;
        let outcome = wallet.send_transaction_and_wait(tx, move |step| progress.set(step)).await;
        outcome.ok().map(|confirmed| confirmed.block)
    }
}

/// The step's state as a line the page announces (`role="status"`); a failure is an alert.
#[component]
pub fn StepStatus(step: Step) -> impl IntoView {
    move || {
        let progress = step.progress.get();
        let label = step.label.get();
        let (class, role) = match &progress {
            TxProgress::Idle => return None,
            TxProgress::Failed(_) => ("rounded-lg bg-red-50 px-3 py-2 text-sm text-red-800", "alert"),
            TxProgress::Confirmed(_) => ("rounded-lg bg-emerald-50 px-3 py-2 text-sm text-emerald-900", "status"),
            _ => ("rounded-lg bg-amber-50 px-3 py-2 text-sm text-amber-900", "status"),
        };
        Some(view! {
            <p class=class role=role data-testid="tx-progress">
                <span class="font-medium">{label} ": "</span>
                <span class="break-all">{progress.describe()}</span>
            </p>
        })
    }
}
