//! The editor's state: the draft as typed, the draft as last saved (the difference is what a
//! reload would lose), the messages per field, and saving to the server.

use leptos::prelude::*;

use crate::error::{AppError, Service};
use crate::products::{Draft, DraftField, FieldError, Stage, save_draft};

#[derive(Clone, Copy)]
pub struct EditorState {
    pub draft: RwSignal<Draft>,
    /// The draft as the server last stored it.
    pub saved: RwSignal<Draft>,
    pub errors: RwSignal<Vec<FieldError>>,
    /// What the last save said ("Draft saved", or why not).
    pub notice: RwSignal<Option<Notice>>,
    pub saving: RwSignal<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    Saved,
    Problem(String),
}

impl EditorState {
    pub fn new(draft: Draft) -> Self {
        Self {
            draft: RwSignal::new(draft.clone()),
            saved: RwSignal::new(draft),
            errors: RwSignal::new(Vec::new()),
            notice: RwSignal::new(None),
            saving: RwSignal::new(false),
        }
    }

    /// Starts over from `draft` (one loaded from the server): nothing unsaved.
    pub fn load(&self, draft: Draft) {
        self.saved.set(draft.clone());
        self.draft.set(draft);
        self.errors.set(Vec::new());
    }

    /// Whether the form holds changes the server does not have.
    pub fn is_dirty(&self) -> bool {
        self.draft.with(|draft| self.saved.with(|saved| !same_fields(draft, saved)))
    }

    /// The message for `field`, if it has one.
    pub fn error(&self, field: DraftField) -> Option<String> {
        self.errors.with(|errors| errors.iter().find(|e| e.field == field).map(|e| e.message.clone()))
    }

    /// Checks the draft for `stage`; shows each wrong field's message and answers whether it is fine.
    pub fn check(&self, stage: Stage) -> bool {
        let problems = self.draft.with_untracked(|draft| draft.problems(stage));
        let fine = problems.is_empty();
        self.errors.set(problems);
        fine
    }

    pub fn update(&self, change: impl FnOnce(&mut Draft)) {
        self.draft.update(change);
    }

    /// Saves the draft as it is; wrong fields are named and nothing is sent. Answers the stored draft.
    pub async fn save(&self) -> Result<Draft, AppError> {
        if !self.check(Stage::Draft) {
            self.notice.set(Some(Notice::Problem("Some fields need a change; nothing was saved.".to_owned())));
            return Err(AppError::Invalid(self.errors.get_untracked()));
        }
        self.saving.set(true);
        let sent = self.draft.get_untracked();
        let answer = match save_draft(sent.clone()).await {
            Err(AppError::Unreachable(_)) => Err(AppError::Unavailable(Service::Drafts)),
            answer => answer,
        };
        self.saving.set(false);
        match &answer {
            Ok(stored) => {
                // What was typed while the save was on its way stays, and stays unsaved.
                let unchanged = self.draft.with_untracked(|draft| same_fields(draft, &sent));
                self.saved.set(stored.clone());
                if unchanged {
                    self.draft.set(stored.clone());
                } else {
                    self.draft.update(|draft| {
                        draft.id = stored.id.clone();
                        draft.updated_at = stored.updated_at;
                    });
                }
                self.notice.set(Some(Notice::Saved));
                set_draft_in_address(&stored.id);
            }
            Err(AppError::Invalid(errors)) => {
                self.errors.set(errors.clone());
                self.notice.set(Some(Notice::Problem("Some fields need a change; nothing was saved.".to_owned())));
            }
            Err(error) => self.notice.set(Some(Notice::Problem(format!("Not saved: {error}.")))),
        }
        answer
    }
}

/// Whether two drafts say the same, whatever their id and save time.
fn same_fields(a: &Draft, b: &Draft) -> bool {
    let bare = |draft: &Draft| Draft { id: String::new(), updated_at: 0, ..draft.clone() };
    bare(a) == bare(b)
}

/// Puts `?draft=<id>` into the address bar without a navigation, so a reload opens the same draft.
fn set_draft_in_address(id: &str) {
    #[cfg(feature = "hydrate")]
    {
        let window = leptos::prelude::window();
        let path = window.location().pathname().unwrap_or_default();
        if path == "/products/new"
            && let Ok(history) = window.history()
        {
            let _ = history.replace_state_with_url(
                &wasm_bindgen::JsValue::NULL,
                "",
                Some(&format!("/products/new?draft={id}")),
            );
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = id;
}
