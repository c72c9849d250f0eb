//! Data shared by the server and the browser: what the API and the UI show of a character.

use serde::{Deserialize, Serialize};

/// Defines a string-valued enum: serde snake_case on the wire, the same words in the database.
macro_rules! word_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $word:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $word),+ }
            }

            /// Reads the stored word; `None` for a word this version does not know.
            pub fn parse(word: &str) -> Option<Self> {
                match word { $($word => Some(Self::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

word_enum!(
    /// Where a character's A2E avatar stands.
    AvatarStatus {
        /// Not yet asked of A2E (portrait being drawn, or a start waiting for A2E).
        Pending = "pending",
        Training = "training",
        Completed = "completed",
        Failed = "failed",
    }
);

word_enum!(
    /// How a character was made.
    Source {
        Generated = "generated",
        UploadedImage = "uploaded_image",
        UploadedVideo = "uploaded_video",
    }
);

word_enum!(
    /// What its avatar is trained from.
    TrainingKind {
        Image = "image",
        Video = "video",
    }
);

word_enum!(
    GenerationKind {
        Scene = "scene",
        MotionTransfer = "motion_transfer",
        ImageToVideo = "image_to_video",
        Lipsync = "lipsync",
        FightSequence = "fight_sequence",
    }
);

word_enum!(
    GenerationStatus {
        Queued = "queued",
        Running = "running",
        Completed = "completed",
        Failed = "failed",
        Cancelled = "cancelled",
    }
);

word_enum!(
    /// How a character was sent to A2E: by its trained avatar's id, or by its picture's URL.
    Via {
        Avatar = "avatar",
        Image = "image",
    }
);

/// A character reference as the API answers it (snake_case) and the UI renders it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Character {
    pub id: String,
    pub user_id: String,
    pub name: String,
    pub prompt: String,
    pub outfit_description: String,
    pub image_url: Option<String>,
    pub video_url: Option<String>,
    pub source: Source,
    pub gender: Option<String>,
    pub avatar_id: Option<String>,
    pub avatar_status: AvatarStatus,
    pub avatar_error: Option<String>,
    pub avatar_progress: Option<i64>,
    pub eta_seconds: Option<i64>,
    pub training_started_at: Option<i64>,
    pub preview_url: Option<String>,
    pub model_version: String,
    pub training_kind: TrainingKind,
    pub continued: bool,
    pub tags: Vec<String>,
    /// A passing note while its work waits (e.g. for A2E to come back).
    #[serde(default)]
    pub notice: Option<String>,
    /// How many generations used it.
    #[serde(default)]
    pub times_used: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Whether a value may read differently later while the user's counted rows stand (see
/// `store::page_cache`): a training's ETA counts down as time passes, A2E's balance moves on its
/// own. A list's answer or a page is kept as sent only when nothing in it does. Each type says
/// so explicitly: a new one must not inherit "keep".
pub trait ChangesWithTime {
    fn changes_with_time(&self) -> bool;
}

impl<T: ChangesWithTime> ChangesWithTime for Vec<T> {
    fn changes_with_time(&self) -> bool {
        self.iter().any(ChangesWithTime::changes_with_time)
    }
}

impl<T: ChangesWithTime> ChangesWithTime for Page<T> {
    fn changes_with_time(&self) -> bool {
        self.items.changes_with_time()
    }
}

impl<A: ChangesWithTime, B: ChangesWithTime> ChangesWithTime for (A, B) {
    fn changes_with_time(&self) -> bool {
        self.0.changes_with_time() || self.1.changes_with_time()
    }
}

impl ChangesWithTime for Voice {
    fn changes_with_time(&self) -> bool {
        false
    }
}

impl ChangesWithTime for Character {
    fn changes_with_time(&self) -> bool {
        self.eta_seconds.is_some()
    }
}

impl ChangesWithTime for Generation {
    fn changes_with_time(&self) -> bool {
        false
    }
}

impl ChangesWithTime for crate::account_types::LedgerEntry {
    fn changes_with_time(&self) -> bool {
        false
    }
}

impl ChangesWithTime for crate::account_types::LedgerPage {
    fn changes_with_time(&self) -> bool {
        self.entries.changes_with_time()
    }
}

/// A2E's coins move on their own, but the credits page shows them for a while at most
/// (`server_fns::account::load_credits` bounds how long its page is kept).
impl ChangesWithTime for crate::account_types::CreditSummary {
    fn changes_with_time(&self) -> bool {
        false
    }
}

impl ChangesWithTime for crate::account_types::Preset {
    fn changes_with_time(&self) -> bool {
        false
    }
}

impl Character {
    pub fn is_trained(&self) -> bool {
        self.avatar_status == AvatarStatus::Completed && self.avatar_id.is_some()
    }
}

word_enum!(
    /// What happened to a character's avatar (its training history).
    EventKind {
        /// Work was queued: created, retried, or a continue asked for.
        Queued = "queued",
        PortraitDrawn = "portrait_drawn",
        TrainingStarted = "training_started",
        /// The training passed a quarter mark.
        Progress = "progress",
        /// A2E accepted continuing the training.
        Continued = "continued",
        Failed = "failed",
        Done = "done",
    }
);

/// One line of a character's training history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CharacterEvent {
    pub id: String,
    pub kind: EventKind,
    /// What it was (e.g. "Retry requested") or why it failed.
    pub detail: String,
    pub progress: Option<i64>,
    pub created_at: i64,
}

/// One page of a list, and the cursor of the next when there is more.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// The gallery's query as given (`?q=&status=&training=&tag=&sort=&limit=&cursor=`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GalleryQuery {
    pub q: Option<String>,
    pub status: Option<String>,
    pub training: Option<String>,
    pub tag: Option<String>,
    pub sort: Option<String>,
    pub limit: Option<String>,
    pub cursor: Option<String>,
}

impl GalleryQuery {
    /// Reads a URL query string; an unknown parameter is ignored, a repeated one counts last.
    pub fn from_pairs<'a>(pairs: impl Iterator<Item = (&'a str, &'a str)>) -> Self {
        let mut q = Self::default();
        for (key, value) in pairs {
            let value = Some(value.to_string());
            match key {
                "q" => q.q = value,
                "status" => q.status = value,
                "training" | "kind" => q.training = value,
                "tag" => q.tag = value,
                "sort" => q.sort = value,
                "limit" => q.limit = value,
                "cursor" => q.cursor = value,
                _ => {}
            }
        }
        q
    }
}

/// Credits charged for generating a character's portrait.
pub const CHARACTER_IMAGE_COST: i64 = 2;
/// Credits charged for continuing a trained avatar's training (about +30 minutes).
pub const CONTINUE_TRAINING_COST: i64 = 100;

/// How a character was sent to A2E for one generation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reference {
    pub name: String,
    pub via: Via,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub character_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub avatar_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub image_url: Option<String>,
    /// The character's outfit, written into the prompts sent to A2E.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub outfit: Option<String>,
}

impl Reference {
    /// How a prompt names it: "Ada (wearing a red coat)".
    pub fn described(&self) -> String {
        match &self.outfit {
            Some(outfit) => format!("{} (wearing {outfit})", self.name),
            None => self.name.clone(),
        }
    }
}

/// Who a generation is about, as the user chose: one of their characters (sent by its avatar
/// when trained at submit time) or a picture by URL.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct SubjectChoice {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub character_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// What was asked for: running it again is submitting the same spec.
/// On the wire (and in the database) it is the generation's `kind` and `inputs`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "inputs", rename_all = "snake_case")]
pub enum GenerationSpec {
    Scene {
        prompt: String,
        aspect_ratio: String,
        #[serde(default)]
        sketch_url: Option<String>,
        #[serde(default)]
        characters: Vec<SubjectChoice>,
    },
    MotionTransfer {
        #[serde(default)]
        prompt: String,
        video_url: String,
        #[serde(default)]
        subject: SubjectChoice,
    },
    ImageToVideo {
        prompt: String,
        duration: u32,
        #[serde(default)]
        subject: SubjectChoice,
    },
    Lipsync {
        #[serde(default)]
        audio_url: Option<String>,
        #[serde(default)]
        text: Option<String>,
        /// The A2E voice `text` is spoken in (chosen when the generation was made).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        voice: Option<String>,
        #[serde(default)]
        subject: SubjectChoice,
    },
    FightSequence {
        moves: Vec<String>,
        aspect_ratio: String,
        #[serde(default)]
        setting: String,
        #[serde(default)]
        characters: Vec<SubjectChoice>,
    },
}

impl GenerationSpec {
    /// How long A2E typically takes for it, in A2E seconds (for the time shown as left).
    pub fn typical_a2e_seconds(&self) -> i64 {
        match self {
            Self::Scene { .. } => 20,
            Self::MotionTransfer { .. } => 60,
            Self::ImageToVideo { duration, .. } => 60 * i64::from((*duration).max(5)) / 5,
            // Speech is made first, then the video.
            Self::Lipsync { .. } => 55,
            Self::FightSequence { moves, .. } => 80 * moves.len() as i64,
        }
    }

    pub fn kind(&self) -> GenerationKind {
        match self {
            Self::Scene { .. } => GenerationKind::Scene,
            Self::MotionTransfer { .. } => GenerationKind::MotionTransfer,
            Self::ImageToVideo { .. } => GenerationKind::ImageToVideo,
            Self::Lipsync { .. } => GenerationKind::Lipsync,
            Self::FightSequence { .. } => GenerationKind::FightSequence,
        }
    }

    /// The prompt a person would recognise it by.
    pub fn prompt(&self) -> &str {
        match self {
            Self::Scene { prompt, .. }
            | Self::MotionTransfer { prompt, .. }
            | Self::ImageToVideo { prompt, .. } => prompt,
            Self::Lipsync { text, .. } => text.as_deref().unwrap_or_default(),
            Self::FightSequence { setting, .. } => setting,
        }
    }
}

/// Where one A2E start stands. The intent (`Sent`) is written before the call, so an answer
/// lost to a timeout or a crash is looked up by name at A2E instead of starting twice.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum StartState {
    #[default]
    NotSent,
    /// Asked under `name` (unique per task) since `since` (ms); no answer recorded yet.
    Sent { name: String, since: i64 },
    /// The last ask certainly did not reach A2E (refused, 503, 429): asked again later, no
    /// lookup needed, and nothing has been started (a cancel refunds in full).
    Waiting { name: String, since: i64 },
    /// A2E accepted it as task `task_id`.
    Started { task_id: String },
}

impl StartState {
    pub fn task_id(&self) -> Option<&str> {
        match self {
            Self::Started { task_id } => Some(task_id),
            _ => None,
        }
    }

    /// Whether A2E may have begun (and charged for) the work.
    pub fn may_have_started(&self) -> bool {
        matches!(self, Self::Sent { .. } | Self::Started { .. })
    }
}

/// Which A2E task family follows a single-task generation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskApi {
    Scene,
    Motion,
    I2v,
    TalkingPhoto,
    AvatarLipsync,
}

/// One move of a fight: a scene with the same avatars, then a clip animated from it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct FightStep {
    #[serde(rename = "move")]
    pub action: String,
    pub scene: StartState,
    pub scene_url: Option<String>,
    pub video: StartState,
    pub video_url: Option<String>,
}

/// The A2E work of a generation in flight.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct GenerationWork {
    /// Single-task generations: which API, and its start.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api: Option<TaskApi>,
    pub task: StartState,
    /// Fight sequences: each move.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<FightStep>,
    /// How long it typically takes here from submit to result, in milliseconds (0: unknown).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub expected_ms: i64,
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}

impl GenerationWork {
    /// Whether anything was (or may have been) started at A2E: a cancel then keeps the charge.
    pub fn may_have_started(&self) -> bool {
        self.task.may_have_started()
            || self
                .steps
                .iter()
                .any(|s| s.scene.may_have_started() || s.video.may_have_started())
    }

    /// Whether A2E certainly started something (a task id came back).
    pub fn any_started(&self) -> bool {
        self.starts().any(|(_, s)| s.task_id().is_some())
    }

    /// Whether a start's outcome is not known yet (asked, no answer recorded).
    pub fn any_unknown(&self) -> bool {
        self.starts()
            .any(|(_, s)| matches!(s, StartState::Sent { .. }))
    }

    /// Every start of the work, with the API it goes to.
    pub fn starts(&self) -> impl Iterator<Item = (TaskApi, &StartState)> {
        let single = self.api.map(|api| (api, &self.task));
        let fight = self
            .steps
            .iter()
            .flat_map(|s| [(TaskApi::Scene, &s.scene), (TaskApi::I2v, &s.video)]);
        single.into_iter().chain(fight)
    }

    pub fn starts_mut(&mut self) -> Vec<(TaskApi, &mut StartState)> {
        let mut all: Vec<(TaskApi, &mut StartState)> = Vec::new();
        if let Some(api) = self.api {
            all.push((api, &mut self.task));
        }
        for s in &mut self.steps {
            all.push((TaskApi::Scene, &mut s.scene));
            all.push((TaskApi::I2v, &mut s.video));
        }
        all
    }

    /// The 1-based move a fight is on.
    pub fn current_step(&self) -> usize {
        self.steps
            .iter()
            .position(|s| s.video_url.is_none())
            .map(|i| i + 1)
            .unwrap_or(self.steps.len())
    }
}

/// A generation as the API answers it and the UI shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Generation {
    pub id: String,
    #[serde(skip_serializing)]
    #[serde(default)]
    pub user_id: String,
    /// `kind` and `inputs` on the wire.
    #[serde(flatten)]
    pub spec: GenerationSpec,
    pub status: GenerationStatus,
    pub progress: i64,
    pub references: Vec<Reference>,
    pub work: GenerationWork,
    pub result_urls: Vec<String>,
    pub error: Option<String>,
    /// A passing note while it waits (e.g. for A2E to come back).
    #[serde(default)]
    pub notice: Option<String>,
    pub cost: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Generation {
    pub fn kind(&self) -> GenerationKind {
        self.spec.kind()
    }

    pub fn is_finished(&self) -> bool {
        matches!(
            self.status,
            GenerationStatus::Completed | GenerationStatus::Failed | GenerationStatus::Cancelled
        )
    }
}

/// Credits per kind of generation (fight sequences: per move), shown before submitting.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Prices {
    pub scene: i64,
    pub motion_transfer: i64,
    pub image_to_video: i64,
    pub lipsync: i64,
    pub fight_move: i64,
}

/// The A2E step a character's job is on (kept with the character, server side).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum CharacterWork {
    #[default]
    Idle,
    /// Draw the portrait at A2E; its price is reserved under `charge`.
    Portrait { start: StartState, charge: String },
    /// Start the avatar's training. `attempt` numbers this character's trainings, so each has
    /// its own name at A2E (a retry must not adopt the failed one).
    Train { start: StartState, attempt: u32 },
    /// Continue the trained avatar; its price is reserved under `charge`.
    Continue { start: StartState, charge: String },
    /// A2E is training: follow it to the end.
    Track,
}

impl CharacterWork {
    /// The reservation this step holds, if any.
    pub fn charge(&self) -> Option<&str> {
        match self {
            Self::Portrait { charge, .. } | Self::Continue { charge, .. } => Some(charge),
            _ => None,
        }
    }

    pub fn start(&self) -> Option<&StartState> {
        match self {
            Self::Portrait { start, .. }
            | Self::Train { start, .. }
            | Self::Continue { start, .. } => Some(start),
            _ => None,
        }
    }
}

/// A text-to-speech voice of A2E's list (`id` is what A2E calls `tts_id`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Voice {
    pub id: String,
    pub name: String,
    /// The group A2E lists it under (a language or region), empty when none.
    #[serde(default)]
    pub group: String,
}
