//! The page state: one `Reducible` [`AppState`] and the [`Action`]s that change it.
//!
//! The state holds the user's intent (scenario, variant, granularity, schedule) and the
//! values computed from it by `smmu-sim` (world, trace, timeline blocks, exploration
//! summaries). Every action that changes the intent re-runs the schedule here, so components
//! only render these values. No verdicts or counts are derived in this crate.

use std::rc::Rc;

use smmu_sim::explore::{DangerMap, Progress};
use smmu_sim::ids::ThreadId;
use smmu_sim::sched::{self, Schedule};
use smmu_sim::share::{self, Link};
use smmu_sim::trace::Trace;
use smmu_sim::view::{self, Block, Lane};
use smmu_sim::{builtin, Granularity, Scenario, Variant, World};
use yew::Reducible;

use crate::editor::{self, Draft};
use crate::history::{History, Snapshot};
use crate::moves;
use crate::worker::Checked;

/// What an exploration result belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExploreKey {
    /// Scenario id.
    pub scenario: String,
    /// Kernel variant.
    pub variant: Variant,
    /// Granularity.
    pub granularity: Granularity,
}

/// The exhaustive check: finished summaries, the run under way, and what is queued.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ExploreState {
    /// Bumped to start or cancel a run; the explorer hook restarts on every change.
    pub generation: u64,
    /// Keys still to explore, in order; the first one is running.
    pub queue: Vec<ExploreKey>,
    /// Progress of the running key.
    pub progress: Option<Progress>,
    /// Finished summaries.
    pub results: Vec<(ExploreKey, Rc<Checked>)>,
    /// Danger windows of finished runs, or why there are none.
    pub dangers: Vec<(ExploreKey, Result<Rc<DangerMap>, String>)>,
    /// The last run was cancelled.
    pub cancelled: bool,
}

impl ExploreState {
    /// The summary for a key, if it was explored.
    pub fn result(&self, key: &ExploreKey) -> Option<&Rc<Checked>> {
        self.results.iter().find(|(k, _)| k == key).map(|(_, s)| s)
    }

    /// The danger windows for a key, if it was explored.
    pub fn danger(&self, key: &ExploreKey) -> Option<&Result<Rc<DangerMap>, String>> {
        self.dangers.iter().find(|(k, _)| k == key).map(|(_, d)| d)
    }

    /// Whether a run is under way.
    pub fn running(&self) -> bool {
        !self.queue.is_empty()
    }
}

/// An ongoing pointer drag of a timeline block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Drag {
    /// The block being dragged (global position).
    pub from: usize,
    /// The column it would drop on.
    pub over: usize,
    /// Where it would really land, when that differs from `over`.
    pub lands: Option<usize>,
}

/// The whole page state.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The selected scenario.
    pub scenario: Rc<Scenario>,
    /// Kernel variant.
    pub variant: Variant,
    /// Granularity.
    pub granularity: Granularity,
    /// The compiled world, or why the scenario does not compile.
    pub world: Option<Rc<World>>,
    /// The user's schedule: their intent; the trace records how it actually ran.
    pub intent: Schedule,
    /// The run of `intent`.
    pub trace: Option<Rc<Trace>>,
    /// Timeline blocks of `trace`.
    pub blocks: Rc<Vec<Block>>,
    /// Timeline lanes.
    pub lanes: Rc<Vec<Lane>>,
    /// The step the state panel shows (state after it); `None`: the initial state.
    pub cursor: Option<usize>,
    /// A block to focus after the next render (keyboard moves keep focus on the block).
    pub focus: Option<usize>,
    /// A pointer drag under way.
    pub drag: Option<Drag>,
    /// An error to show (schedule that fails to parse, scenario that fails to compile).
    pub error: Option<String>,
    /// Exhaustive check results.
    pub explore: ExploreState,
    /// Bumped on every re-simulation (the E2E test waits for it).
    pub runs: u64,
    /// Why the link the page was opened with could not be opened (shown as a banner on top).
    pub link_error: Option<String>,
    /// Why the last import failed.
    pub import_error: Option<String>,
    /// Bumped on every successful import (the import dialog closes on it).
    pub imports: u64,
    /// Where the shown schedule was carried from, while it is unedited since.
    pub origin: Option<Origin>,
    /// Schedule text that failed to load, kept in the field until the next run or dismissal.
    pub draft: Option<String>,
    /// What the explorer's counterexample button loaded, until the next run.
    pub loaded: Option<String>,
    /// Undo and redo of edits to the run.
    pub history: History,
    /// Why the last move did not land where it was asked for, until the next run.
    pub move_note: Option<String>,
    /// Blocks of other lanes the last move pushed along, until the next run.
    pub shifted: Rc<Vec<usize>>,
    /// The scenario editor's draft, once an edit was made since the scenario last changed
    /// otherwise; `None`: the editor shows the scenario itself.
    pub editor: Option<Rc<Draft>>,
}

/// The run a schedule was carried from by a switch of variant: the variant the user made it
/// in, their schedule there, and the schedule it was carried to (an edit makes it the user's own).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    /// The variant the user's schedule was made in.
    pub variant: Variant,
    /// The user's schedule there.
    pub schedule: Schedule,
    /// What it was carried to; once the shown schedule differs, the origin no longer applies.
    pub carried: Schedule,
}

/// Values computed from the intent are compared by identity: they are only ever replaced.
impl PartialEq for AppState {
    fn eq(&self, o: &Self) -> bool {
        let same = |a: &Option<Rc<World>>, b: &Option<Rc<World>>| match (a, b) {
            (Some(a), Some(b)) => Rc::ptr_eq(a, b),
            (None, None) => true,
            _ => false,
        };
        let same_trace = match (&self.trace, &o.trace) {
            (Some(a), Some(b)) => Rc::ptr_eq(a, b),
            (None, None) => true,
            _ => false,
        };
        Rc::ptr_eq(&self.scenario, &o.scenario)
            && self.variant == o.variant
            && self.granularity == o.granularity
            && same(&self.world, &o.world)
            && same_trace
            && self.intent == o.intent
            && self.cursor == o.cursor
            && self.focus == o.focus
            && self.drag == o.drag
            && self.error == o.error
            && self.explore == o.explore
            && self.runs == o.runs
            && self.link_error == o.link_error
            && self.import_error == o.import_error
            && self.imports == o.imports
            && self.origin == o.origin
            && self.draft == o.draft
            && self.loaded == o.loaded
            && self.history == o.history
            && self.move_note == o.move_note
            && self.shifted == o.shifted
            && self.editor == o.editor
    }
}

/// Everything the page can ask for.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// Pick a built-in scenario by id (loads its default schedule).
    Scenario(String),
    /// Pick a kernel variant (keeps the schedule).
    Variant(Variant),
    /// Pick a granularity (loads that granularity's default schedule).
    Granularity(Granularity),
    /// Flip the fix: pre ↔ fix.
    ToggleFix,
    /// Move the block at `from` to column `to` (drop).
    Move {
        /// Global position of the block.
        from: usize,
        /// Column it was dropped on.
        to: usize,
    },
    /// Move the block at a position one step earlier or later (keyboard).
    Nudge {
        /// Global position of the block.
        from: usize,
        /// Later (`true`) or earlier.
        later: bool,
    },
    /// Start dragging a block.
    DragStart(usize),
    /// The dragged block is over a column.
    DragOver(usize),
    /// The drag ended without a drop.
    DragCancel,
    /// Put the cursor on a step (`None`: before the first step).
    Cursor(Option<usize>),
    /// Move the cursor by a number of steps.
    CursorBy(isize),
    /// Cursor to before the first step.
    CursorHome,
    /// Cursor to the last step.
    CursorEnd,
    /// The focus request was honoured.
    Focused,
    /// Back to the scenario's default schedule.
    Reset,
    /// Load a schedule from text (names or indices); parse errors are shown.
    LoadText(String),
    /// Load a schedule found by the explorer.
    LoadSchedule(Schedule, String),
    /// Check every interleaving of the current variant and the other side of the fix.
    ExploreStart,
    /// Stop the check.
    ExploreCancel,
    /// The running check made progress.
    ExploreProgress(Progress),
    /// The running check finished, with its danger windows.
    ExploreDone(ExploreKey, Rc<Checked>, Result<Rc<DangerMap>, String>),
    /// The check could not run.
    ExploreFailed(String),
    /// Open a permalink (the address's fragment changed).
    OpenLink(String),
    /// Dismiss the error.
    DismissError,
    /// Open scenario JSON, a permalink or a whole URL holding one; errors go to
    /// [`AppState::import_error`].
    Import(String),
    /// Forget the last import error.
    ImportDismiss,
    /// Dismiss the banner about a link that could not be opened.
    DismissLinkError,
    /// Load a violating interleaving that runs step `a` (thread, its step number) before `b`
    /// (from the danger map); `what` names the order.
    PickOrder {
        /// The step that runs first.
        a: (ThreadId, u16),
        /// The step that runs after it.
        b: (ThreadId, u16),
        /// The order in words.
        what: String,
    },
    /// Run the scenario under this patch of the step scripts (`None`: unpatched). A patch
    /// that does not compile is refused with its message, and the old one stays.
    SetPatch(Option<smmu_sim::patch::Patch>),
    /// An edit in the scenario editor: a valid result becomes the scenario (a fresh run on the
    /// round-robin schedule), an invalid one stays in the editor with its message at the field.
    Edit(editor::Edit),
    /// Undo the last edit to the run.
    Undo,
    /// Redo the last undone edit.
    Redo,
}

/// The id of the scenario shown on a first visit.
pub const FIRST_SCENARIO: &str = "seed-race";

impl Default for AppState {
    fn default() -> Self {
        AppState::new(FIRST_SCENARIO, Variant::Pre, Granularity::Mail)
    }
}

impl AppState {
    /// A page showing a built-in scenario with its default schedule.
    pub fn new(id: &str, variant: Variant, granularity: Granularity) -> Self {
        let scenario = builtin::get(id).or_else(|| builtin::all().into_iter().next()).map(Rc::new);
        let scenario = scenario.expect("there is at least one built-in scenario");
        AppState::with_scenario(scenario, variant, granularity)
    }

    /// The page a permalink (`v1.…`, `#v1.…` or a whole URL) describes. A link that cannot be
    /// opened gives the first-visit page with the reason shown. An empty text is a first visit.
    /// `#embed/v1.…` is the same link shown embedded.
    pub fn from_link(text: &str) -> Self {
        let text = crate::route::parse(text).link;
        if text.is_empty() {
            return AppState::default();
        }
        match share::decode(&text) {
            Ok(link) => AppState::from_decoded(link),
            Err(e) => {
                AppState { link_error: Some(format!("{e}; showing the seed race instead")), ..AppState::default() }
            }
        }
    }

    /// The page a visit opens: the address's link always wins (a broken one gives the
    /// first-visit page with the reason shown); without one, the session this browser saved
    /// (see [`crate::storage`]); without that, the first visit. A saved session that cannot be
    /// restored, corrupt or from an older version, gives the first visit with a notice.
    pub fn initial(hash: &str, saved: Option<&str>) -> Self {
        let route = crate::route::parse(hash);
        let saved = saved.map(str::trim).filter(|s| !s.is_empty());
        match saved {
            Some(text) if route.link.is_empty() && !route.embed => match share::decode(text) {
                Ok(link) => AppState::from_decoded(link),
                Err(e) => AppState {
                    link_error: Some(format!(
                        "The session saved in this browser could not be restored: {e}; showing the seed race instead"
                    )),
                    ..AppState::default()
                },
            },
            _ => AppState::from_link(hash),
        }
    }

    /// The page with the editor's unfinished scenario saved in this browser restored, when the
    /// address carries no link or the saved session's own (a reload); one that cannot be read
    /// is dropped with a notice. The saved text is untrusted: it is size-checked and then
    /// loaded like any scenario JSON.
    pub fn with_saved_draft(mut self, hash: &str, saved: Option<&str>, session: Option<&str>) -> Self {
        let route = crate::route::parse(hash);
        let own = route.link.is_empty() || session.is_some_and(|s| s.trim() == route.link);
        let Some(text) = saved.filter(|_| own && !route.embed) else { return self };
        match editor::restore(text, self.variant, self.granularity) {
            Ok(draft) => self.editor = Some(Rc::new(draft)),
            Err(e) => {
                self.link_error =
                    Some(format!("The unfinished scenario saved in this browser could not be restored: {e}"));
            }
        }
        self
    }

    fn from_decoded(link: Link) -> Self {
        let mut s = AppState::with_scenario(Rc::new(link.scenario), link.variant, link.granularity);
        s.intent = link.schedule;
        s.rerun();
        let n = s.n_steps();
        s.cursor = link.cursor.map(|c| c as usize).filter(|&c| c < n);
        s
    }

    /// The page for imported text: scenario JSON (as `smmu-sim export --format json` writes
    /// it, its own variant, granularity and default schedule), or a permalink or whole URL.
    /// Every failure is a message for the user.
    pub fn import(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("nothing to import: paste scenario JSON or a permalink".into());
        }
        if text.starts_with('{') {
            let scenario = Scenario::from_json(text).map_err(|e| e.to_string())?;
            let (v, g) = (scenario.variant, scenario.granularity);
            let world =
                scenario.compile(v, g).map_err(|e| format!("scenario {} does not compile: {e}", scenario.id))?;
            let intent = match scenario.default_schedule(v, g) {
                Some(t) => Schedule::parse(t, &world).map_err(|e| format!("the scenario's schedule: {e}"))?,
                None => Schedule::default(),
            };
            let mut s = AppState::with_scenario(Rc::new(scenario), v, g);
            s.load(intent);
            return Ok(s);
        }
        let link = share::decode(&crate::route::parse(text).link).map_err(|e| e.to_string())?;
        link.scenario
            .compile(link.variant, link.granularity)
            .map_err(|e| format!("the link's scenario {} does not compile: {e}", link.scenario.id))?;
        Ok(AppState::from_decoded(link))
    }

    /// The permalink of what the page shows: the user's schedule (which replays to the same
    /// trace, waits included) and the cursor.
    pub fn link(&self) -> Option<String> {
        self.trace.as_ref()?;
        let link = Link {
            scenario: (*self.scenario).clone(),
            variant: self.variant,
            granularity: self.granularity,
            schedule: self.intent.clone(),
            cursor: self.cursor.and_then(|c| u32::try_from(c).ok()),
        };
        share::encode(&link).ok()
    }

    fn with_scenario(scenario: Rc<Scenario>, variant: Variant, granularity: Granularity) -> Self {
        let mut s = AppState {
            scenario,
            variant,
            granularity,
            world: None,
            intent: Schedule::default(),
            trace: None,
            blocks: Rc::default(),
            lanes: Rc::default(),
            cursor: None,
            focus: None,
            drag: None,
            error: None,
            explore: ExploreState::default(),
            runs: 0,
            link_error: None,
            import_error: None,
            imports: 0,
            origin: None,
            draft: None,
            loaded: None,
            history: History::default(),
            move_note: None,
            shifted: Rc::default(),
            editor: None,
        };
        s.recompile();
        s.intent = s.default_intent();
        s.rerun();
        s.cursor = s.first_violation();
        s
    }

    /// The variant on the other side of the fix toggle.
    pub fn counterpart(&self) -> Variant {
        match self.variant {
            Variant::Pre => Variant::Fix,
            Variant::Fix | Variant::V69 => Variant::Pre,
        }
    }

    /// Whether the fix is in (fix or v6.9).
    pub fn fix_on(&self) -> bool {
        self.variant.attach_holds_asid_lock()
    }

    /// The exploration key of the current view, or of another variant.
    pub fn key(&self, variant: Variant) -> ExploreKey {
        ExploreKey { scenario: self.scenario.id.clone(), variant, granularity: self.granularity }
    }

    /// The block at the cursor.
    pub fn cursor_block(&self) -> Option<&Block> {
        self.cursor.and_then(|c| self.blocks.get(c))
    }

    /// The schedule text of the intent, with thread names.
    pub fn intent_text(&self) -> String {
        self.world.as_ref().map(|w| self.intent.to_names(w)).unwrap_or_default()
    }

    /// What the schedule field shows: the text the user typed while it has an error (so a
    /// typo can be corrected, not retyped), else the schedule that runs.
    pub fn field_text(&self) -> String {
        self.draft.clone().unwrap_or_else(|| self.intent_text())
    }

    fn default_intent(&self) -> Schedule {
        let (Some(world), Some(text)) = (&self.world, self.scenario.default_schedule(self.variant, self.granularity))
        else {
            return Schedule::default();
        };
        Schedule::parse(text, world).unwrap_or_default()
    }

    fn first_violation(&self) -> Option<usize> {
        let trace = self.trace.as_ref()?;
        trace.safety_violations().map(|v| v.step).min()
    }

    fn recompile(&mut self) {
        match self.scenario.compile(self.variant, self.granularity) {
            Ok(w) => {
                self.lanes = Rc::new(view::lanes(&w));
                self.world = Some(Rc::new(w));
            }
            Err(e) => {
                self.world = None;
                self.lanes = Rc::default();
                self.error = Some(format!("scenario {} does not compile: {e}", self.scenario.id));
            }
        }
    }

    /// Runs the intent and refreshes the timeline; keeps the cursor in range.
    fn rerun(&mut self) {
        self.runs += 1;
        self.draft = None;
        self.loaded = None;
        self.move_note = None;
        self.shifted = Rc::default();
        let Some(world) = &self.world else {
            self.trace = None;
            self.blocks = Rc::default();
            self.cursor = None;
            return;
        };
        let trace = match sched::run(world, &self.intent) {
            Ok(trace) => trace,
            Err(e) => {
                self.error = Some(e.to_string());
                self.trace = None;
                self.blocks = Rc::default();
                self.cursor = None;
                return;
            }
        };
        self.blocks = Rc::new(view::blocks(world, &trace));
        let n = trace.steps.len();
        self.cursor = self.cursor.map(|c| c.min(n.saturating_sub(1))).filter(|_| n > 0);
        self.trace = Some(Rc::new(trace));
    }

    /// Where block (lane, nth) ended up after a re-run.
    fn find(&self, lane: usize, nth: usize) -> Option<usize> {
        self.blocks.iter().find(|b| b.lane == lane && b.nth == nth).map(|b| b.index)
    }

    /// Replaces the intent with an edit of the executed schedule and follows the moved block.
    /// When the block does not land on the column asked for, or the run cannot change, the
    /// page says why ([`AppState::move_note`]); other lanes' blocks it pushed are marked.
    fn apply_move(&mut self, from: usize, asked: usize, edit: Option<(Schedule, usize)>, focus: bool) {
        let (Some(world), Some(trace), Some(block)) = (&self.world, &self.trace, self.blocks.get(from)) else { return };
        let Some(edit) = edit else { return };
        let Some(landing) = moves::land(world, trace, block, asked, edit) else { return };
        let (lane, nth) = (block.lane, block.nth);
        let before = self.blocks.clone();
        if !landing.changes {
            self.move_note = Some(landing.why.unwrap_or_else(|| "the run does not change".into()));
            return;
        }
        self.intent = landing.schedule;
        self.rerun();
        self.move_note = landing.why;
        self.shifted = Rc::new(moves::shifted(&before, &self.blocks, lane));
        let at = self.find(lane, nth);
        self.cursor = at;
        if focus {
            self.focus = at;
        }
    }

    /// Where the block at `from` would land if dropped on column `over`.
    fn preview(&self, from: usize, over: usize) -> Option<usize> {
        let (world, trace, block) = (self.world.as_ref()?, self.trace.as_ref()?, self.blocks.get(from)?);
        let edit = view::move_block(&trace.schedule(), from, over);
        moves::land(world, trace, block, over, edit).map(|l| l.at)
    }

    fn load(&mut self, schedule: Schedule) {
        self.intent = schedule;
        self.error = None;
        self.rerun();
        self.cursor = self.first_violation().or(self.cursor);
    }

    fn n_steps(&self) -> usize {
        self.blocks.len()
    }

    /// Shows the user's run under another variant: the same steps in the same order as far
    /// as that kernel has them (`sched::translate`), so flipping the fix shows the fix at work
    /// on the interleaving the user built. The run is always carried from where the user made
    /// it ([`AppState::origin`]), so flipping back gives their own schedule again.
    fn carry_to(&mut self, variant: Variant) {
        let origin = match self.origin.take() {
            Some(o) if o.carried == self.intent => o,
            _ => Origin { variant: self.variant, schedule: self.intent.clone(), carried: Schedule::default() },
        };
        let source = if origin.variant == self.variant {
            self.trace.clone()
        } else {
            let world = self.scenario.compile(origin.variant, self.granularity).ok();
            world.and_then(|w| sched::run(&w, &origin.schedule).ok()).map(Rc::new)
        };
        self.variant = variant;
        self.error = None;
        self.recompile();
        if origin.variant == variant {
            self.intent = origin.schedule;
        } else if let (Some(from), Some(world)) = (&source, &self.world) {
            self.intent = sched::translate(from, world);
            self.origin = Some(Origin { carried: self.intent.clone(), ..origin });
        }
        self.rerun();
    }

    /// Runs the scenario under `patch`, keeping the schedule; earlier exhaustive counts are
    /// of another driver and are dropped.
    fn set_patch(&mut self, patch: Option<smmu_sim::patch::Patch>) {
        let next = Scenario { patch, ..(*self.scenario).clone() };
        if let Err(e) = next.compile(self.variant, self.granularity) {
            self.error = Some(format!("the edit is refused: {e}"));
            return;
        }
        self.scenario = Rc::new(next);
        self.explore = ExploreState { generation: self.explore.generation + 1, ..ExploreState::default() };
        self.error = None;
        self.editor = None;
        self.recompile();
        self.rerun();
    }

    /// The editor's draft: the last one, or the scenario shown.
    pub fn draft(&self) -> Draft {
        self.editor.as_deref().cloned().unwrap_or_else(|| editor::draft_of(&self.scenario))
    }

    fn edit_scenario(&mut self, edit: &editor::Edit) {
        let base = self.draft().value;
        let value = match editor::apply(&base, edit) {
            Ok(value) => value,
            Err(e) => {
                let typed = match edit {
                    editor::Edit::Set { path, text, .. } => Some((path.clone(), text.clone())),
                    _ => None,
                };
                self.editor = Some(Rc::new(Draft { typed, ..Draft::new(base, Some(e)) }));
                return;
            }
        };
        let scenario = match editor::check(&value, self.variant, self.granularity) {
            Ok(s) => s,
            Err(e) => {
                self.editor = Some(Rc::new(Draft::new(value, Some(e))));
                return;
            }
        };
        // As an import does: a fresh page for the scenario; earlier counts do not apply.
        let mut t = AppState::with_scenario(Rc::new(scenario), self.variant, self.granularity);
        t.explore = ExploreState { generation: self.explore.generation + 1, ..ExploreState::default() };
        t.runs = self.runs + 1;
        t.editor = Some(Rc::new(Draft::new(value, None)));
        *self = t;
    }

    fn set_view(&mut self, variant: Variant, granularity: Granularity, keep_intent: bool) {
        let changed_granularity = granularity != self.granularity;
        if keep_intent && !changed_granularity && variant != self.variant {
            return self.carry_to(variant);
        }
        self.variant = variant;
        self.granularity = granularity;
        self.error = None;
        self.recompile();
        if !keep_intent || changed_granularity {
            let fresh = self.default_intent();
            if !fresh.0.is_empty() || !keep_intent {
                self.intent = fresh;
            }
        }
        self.rerun();
    }
}

impl Reducible for AppState {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        match action {
            Action::Undo => self.travel(false),
            Action::Redo => self.travel(true),
            action => {
                let next = self.clone().apply(action);
                next.recorded(&self)
            }
        }
    }
}

impl AppState {
    /// What an edit changes, for undo.
    fn snapshot(&self) -> Snapshot {
        Snapshot { variant: self.variant, intent: self.intent.clone(), cursor: self.cursor }
    }

    /// `self` after an action from `before`: an edit of the run is recorded for undo; another
    /// scenario or granularity starts a new history.
    fn recorded(self: Rc<Self>, before: &AppState) -> Rc<Self> {
        let same_world = Rc::ptr_eq(&self.scenario, &before.scenario) && self.granularity == before.granularity;
        let edited = self.variant != before.variant || self.intent != before.intent;
        if same_world && !edited {
            return self;
        }
        let mut s = (*self).clone();
        if same_world {
            s.history.record(before.snapshot());
        } else {
            s.history = History::default();
        }
        Rc::new(s)
    }

    /// Undo (`forward == false`) or redo.
    fn travel(self: Rc<Self>, forward: bool) -> Rc<Self> {
        let mut s = (*self).clone();
        let now = s.snapshot();
        let Some(to) = (if forward { s.history.redo(now) } else { s.history.undo(now) }) else { return self };
        if to.variant != s.variant {
            s.variant = to.variant;
            s.recompile();
        }
        s.intent = to.intent;
        s.error = None;
        s.rerun();
        s.cursor = to.cursor.filter(|&c| c < s.n_steps());
        Rc::new(s)
    }

    fn apply(self: Rc<Self>, action: Action) -> Rc<Self> {
        let mut s = (*self).clone();
        match action {
            Action::Scenario(id) => {
                let Some(sc) = builtin::get(&id) else {
                    s.error = Some(format!("unknown scenario '{id}'"));
                    return Rc::new(s);
                };
                s.scenario = Rc::new(sc);
                s.editor = None;
                s.cursor = None;
                s.set_view(s.variant, s.granularity, false);
                s.cursor = s.first_violation();
            }
            Action::Variant(v) => s.set_view(v, s.granularity, true),
            Action::Granularity(g) => {
                s.cursor = None;
                s.set_view(s.variant, g, true);
                s.cursor = s.first_violation();
            }
            Action::ToggleFix => {
                let v = match s.variant {
                    Variant::Pre => Variant::Fix,
                    Variant::Fix => Variant::Pre,
                    Variant::V69 => return self,
                };
                s.set_view(v, s.granularity, true);
            }
            Action::Move { from, to } => {
                s.drag = None;
                let edit = s.trace.as_ref().map(|t| view::move_block(&t.schedule(), from, to));
                s.apply_move(from, to, edit, false);
            }
            Action::Nudge { from, later } => {
                let edit = s.trace.as_ref().and_then(|t| view::nudge_block(&t.schedule(), from, later));
                let asked = edit.as_ref().map_or(from, |(_, at)| *at);
                s.apply_move(from, asked, edit, true);
            }
            Action::DragStart(from) => s.drag = Some(Drag { from, over: from, lands: None }),
            Action::DragOver(over) => {
                let Some(d) = s.drag else { return self };
                if d.over == over {
                    return self;
                }
                let lands = s.preview(d.from, over).filter(|&at| at != over);
                s.drag = Some(Drag { over, lands, ..d });
            }
            Action::DragCancel => s.drag = None,
            Action::Cursor(c) => s.cursor = c.filter(|&c| c < s.n_steps()),
            Action::CursorBy(d) => {
                let n = s.n_steps() as isize;
                let at = s.cursor.map_or(-1, |c| c as isize) + d;
                s.cursor = if at < 0 || n == 0 { None } else { Some(at.min(n - 1) as usize) };
            }
            Action::CursorHome => s.cursor = None,
            Action::CursorEnd => s.cursor = s.n_steps().checked_sub(1),
            Action::Focused => s.focus = None,
            Action::Reset => {
                let fresh = s.default_intent();
                s.load(fresh);
            }
            Action::LoadText(text) => {
                let Some(world) = s.world.clone() else { return self };
                match Schedule::parse(&text, &world) {
                    Ok(schedule) => s.load(schedule),
                    Err(e) => {
                        s.error = Some(format!("schedule not loaded: {e}"));
                        s.draft = Some(text);
                    }
                }
            }
            Action::LoadSchedule(schedule, what) => {
                s.load(schedule);
                s.loaded = Some(what);
            }
            Action::ExploreStart => {
                // The shown kernel first, then the other side of the fix, then the rest.
                let first = [s.variant, s.counterpart()];
                let rest = Variant::ALL.into_iter().filter(|v| !first.contains(v));
                let variants: Vec<Variant> = first.into_iter().chain(rest).collect();
                let keys: Vec<ExploreKey> = variants.into_iter().map(|v| s.key(v)).collect();
                s.explore.queue = keys.into_iter().filter(|k| s.explore.result(k).is_none()).collect();
                s.explore.generation += 1;
                s.explore.progress = None;
                s.explore.cancelled = false;
            }
            Action::ExploreCancel => {
                s.explore.generation += 1;
                s.explore.cancelled = s.explore.running();
                s.explore.queue.clear();
                s.explore.progress = None;
            }
            Action::ExploreProgress(p) => s.explore.progress = Some(p),
            Action::ExploreDone(key, summary, danger) => {
                if s.explore.queue.first() != Some(&key) {
                    return self;
                }
                s.explore.queue.remove(0);
                s.explore.progress = None;
                s.explore.results.retain(|(k, _)| *k != key);
                s.explore.dangers.retain(|(k, _)| *k != key);
                s.explore.results.push((key.clone(), summary));
                s.explore.dangers.push((key, danger));
            }
            Action::ExploreFailed(e) => {
                s.explore.queue.clear();
                s.explore.progress = None;
                s.error = Some(format!("the check could not run: {e}"));
            }
            Action::OpenLink(text) => {
                let link = crate::route::parse(&text).link;
                if link.is_empty() || s.link().as_deref() == Some(link.as_str()) {
                    return self;
                }
                let explore = std::mem::take(&mut s.explore);
                s = AppState::from_link(&text);
                s.explore = ExploreState { generation: explore.generation + 1, ..explore };
                s.explore.queue.clear();
                s.explore.progress = None;
                s.runs = self.runs + 1;
            }
            Action::DismissError => {
                s.error = None;
                s.draft = None;
            }
            Action::DismissLinkError => s.link_error = None,
            Action::Import(text) => match AppState::import(&text) {
                Ok(mut t) => {
                    // An imported scenario may reuse a built-in's id: earlier counts do not apply.
                    t.explore = ExploreState { generation: s.explore.generation + 1, ..ExploreState::default() };
                    t.runs = s.runs + 1;
                    t.imports = s.imports + 1;
                    s = t;
                }
                Err(e) => s.import_error = Some(e),
            },
            Action::ImportDismiss => s.import_error = None,
            Action::SetPatch(patch) => s.set_patch(patch),
            Action::Edit(edit) => s.edit_scenario(&edit),
            Action::Undo | Action::Redo => return self.travel(matches!(action, Action::Redo)),
            Action::PickOrder { a, b, what } => {
                let Some(world) = s.world.clone() else { return self };
                match view::violating_with_order(&world, a, b) {
                    Some(schedule) => {
                        s.load(schedule);
                        s.loaded = Some(format!("a violating interleaving that runs {what}"));
                    }
                    None => {
                        s.error = Some(format!(
                            "no violating run with {what} among {} seeded random runs; the exhaustive check counted some, so one exists",
                            view::ORDER_TRIES
                        ))
                    }
                }
            }
        }
        Rc::new(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reduce(s: Rc<AppState>, a: Action) -> Rc<AppState> {
        s.reduce(a)
    }

    fn safety(s: &AppState) -> Vec<&'static str> {
        let mut ids: Vec<_> = s.blocks.iter().flat_map(|b| b.violations.clone()).filter(|i| *i != "lock").collect();
        ids.sort();
        ids.dedup();
        ids
    }

    #[test]
    fn a_patch_reruns_the_run_and_a_refused_one_keeps_the_last() {
        let s = Rc::new(AppState::default());
        assert!(!safety(&s).is_empty());
        let fix = smmu_sim::patch::presets::get("9f7c6891").unwrap().patch();
        let t = reduce(s.clone(), Action::SetPatch(Some(fix.clone())));
        assert!(safety(&t).is_empty(), "{:?}", safety(&t));
        assert_eq!(t.scenario.patch.as_ref(), Some(&fix));
        let looping = smmu_sim::patch::Patch {
            base: Variant::Pre,
            edits: vec!["move arm_smmu_attach_dev finalise#1 after init_mutex_unlock#1".parse().unwrap()],
        };
        let u = reduce(t.clone(), Action::SetPatch(Some(looping)));
        assert!(u.error.as_deref().is_some_and(|e| e.contains("a loop")), "{:?}", u.error);
        assert_eq!(u.scenario.patch.as_ref(), Some(&fix));
        let v = reduce(u, Action::SetPatch(None));
        assert!(!safety(&v).is_empty());
    }

    #[test]
    fn first_visit_is_the_seed_race_before_the_fix_with_violations() {
        let s = AppState::default();
        assert_eq!(s.scenario.id, "seed-race");
        assert_eq!(s.variant, Variant::Pre);
        assert!(safety(&s).contains(&"inv1") && safety(&s).contains(&"inv2"), "{:?}", safety(&s));
        assert!(s.cursor.is_some(), "the cursor starts on the first violation");
    }

    #[test]
    fn toggling_the_fix_carries_the_run_so_cpu1_waits_and_back_gives_the_users_schedule() {
        let s = Rc::new(AppState::default());
        let (intent, blocks) = (s.intent.clone(), s.blocks.clone());
        let s = reduce(s, Action::ToggleFix);
        assert_eq!(s.variant, Variant::Fix);
        assert!(safety(&s).is_empty(), "{:?}", safety(&s));
        let waits: Vec<&Block> = s.blocks.iter().filter(|b| b.waited.is_some()).collect();
        assert_eq!(waits.len(), 1, "one step waits");
        let why = &waits[0].waited.as_ref().unwrap().1;
        assert!(waits[0].lane == 1 && why.contains("arm_smmu_asid_lock") && why.contains("CPU0"), "{why}");
        let s = reduce(s, Action::ToggleFix);
        assert_eq!(s.variant, Variant::Pre);
        assert_eq!((&s.intent, &s.blocks), (&intent, &blocks), "back before the fix: the user's own run");
        assert!(!safety(&s).is_empty());
        // An edit under the fix makes that schedule the user's own: it is carried back instead.
        let s = reduce(s, Action::ToggleFix);
        let s = reduce(s, Action::LoadText("CPU1*3 CPU0".into()));
        let edited = s.intent.clone();
        let s = reduce(s, Action::ToggleFix);
        assert_ne!(s.intent, intent);
        let s = reduce(s, Action::ToggleFix);
        assert_eq!(s.intent, edited, "flipped twice after an edit: the edited schedule");
    }

    #[test]
    fn with_the_fix_cpu1_waits_for_the_asid_lock_cpu0_holds() {
        let s = reduce(Rc::new(AppState::default()), Action::ToggleFix);
        let s = reduce(s, Action::LoadText("CPU0*6 CPU1*3".into()));
        let waited = s.blocks.iter().find(|b| b.waited.is_some()).expect("a step waited");
        assert_eq!(waited.lane, 1);
        let (pos, why) = waited.waited.clone().unwrap();
        assert!(pos < waited.index);
        assert!(why.contains("arm_smmu_asid_lock") && why.contains("CPU0"), "{why}");
    }

    #[test]
    fn dragging_cpu1_first_block_to_the_end_pushes_cpu1_along_and_clears_the_race() {
        let s = Rc::new(AppState::default());
        let first = s.blocks.iter().find(|b| b.lane == 1).unwrap().index;
        let n = s.blocks.len();
        let s = reduce(s, Action::Move { from: first, to: n - 1 });
        assert!(safety(&s).is_empty(), "{:?}", safety(&s));
        let lanes: Vec<usize> = s.blocks.iter().map(|b| b.lane).collect();
        let last_cpu0 = lanes.iter().rposition(|l| *l == 0).unwrap();
        let first_cpu1 = lanes.iter().position(|l| *l == 1).unwrap();
        assert!(first_cpu1 > last_cpu0, "{lanes:?}");
        assert_eq!(s.cursor_block().map(|b| (b.lane, b.nth)), Some((1, 0)), "the cursor follows the block");
        let s = reduce(s, Action::Reset);
        assert!(!safety(&s).is_empty());
    }

    #[test]
    fn a_permalink_reopens_the_same_page() {
        let s = reduce(Rc::new(AppState::default()), Action::ToggleFix);
        let s = reduce(s, Action::LoadText("CPU0*6 CPU1*3".into()));
        let s = reduce(s, Action::Cursor(Some(7)));
        let link = s.link().unwrap();
        let t = AppState::from_link(&format!("#{link}"));
        assert_eq!((t.variant, t.granularity, t.cursor), (Variant::Fix, Granularity::Mail, Some(7)));
        assert_eq!(t.trace.as_ref().unwrap().schedule(), s.trace.as_ref().unwrap().schedule());
        assert_eq!(t.blocks, s.blocks, "the same trace, waits included");
        let bad = AppState::from_link("#v1.garbage");
        assert!(bad.link_error.as_deref().unwrap().contains("damaged"), "{:?}", bad.link_error);
        assert_eq!(bad.scenario.id, "seed-race");
    }

    #[test]
    fn a_saved_session_reopens_unless_a_link_is_given_and_a_corrupt_one_is_a_notice() {
        let s = reduce(Rc::new(AppState::default()), Action::ToggleFix);
        let s = reduce(s, Action::Cursor(Some(3)));
        let saved = s.link().unwrap();
        let back = AppState::initial("", Some(&saved));
        assert_eq!((back.variant, back.cursor, back.link_error.clone()), (Variant::Fix, Some(3), None));
        let other = reduce(Rc::new(AppState::default()), Action::Cursor(Some(5))).link().unwrap();
        let linked = AppState::initial(&format!("#{other}"), Some(&saved));
        assert_eq!((linked.variant, linked.cursor), (Variant::Pre, Some(5)), "the link wins");
        let embedded = AppState::initial("#embed", Some(&saved));
        assert_eq!(embedded.variant, Variant::Pre, "an embed never shows the saved session");
        for corrupt in ["v1.garbage", "v0.old", "{\"not\": \"a link\"}", &saved[..saved.len() / 2]] {
            let t = AppState::initial("", Some(corrupt));
            let notice = t.link_error.as_deref().unwrap_or_default();
            assert!(notice.contains("could not be restored"), "{corrupt}: {notice}");
            assert_eq!((t.scenario.id.as_str(), t.variant), ("seed-race", Variant::Pre), "{corrupt}");
        }
        assert_eq!(AppState::initial("", Some("  ")).link_error, None, "nothing saved is a first visit");
    }

    #[test]
    fn the_editor_applies_valid_edits_keeps_invalid_ones_and_restores_an_unfinished_draft() {
        use crate::editor::{Edit, Input};
        let s = Rc::new(AppState::default());
        let set = |path: &str, text: &str| {
            Action::Edit(Edit::Set { path: path.into(), input: Input::Check, text: text.into() })
        };
        let t = reduce(s.clone(), set("masters.0.ats", "true"));
        assert!(t.scenario.masters[0].ats && t.scenario.id == "custom" && t.runs > s.runs, "a valid edit applies");
        let bad = Action::Edit(Edit::Set { path: "domains.0.id".into(), input: Input::OptNum, text: "0".into() });
        let u = reduce(t.clone(), bad);
        assert_eq!((u.runs, Rc::ptr_eq(&u.scenario, &t.scenario)), (t.runs, true), "an invalid one is not applied");
        let field = u.editor.as_ref().and_then(|d| d.error.clone()).and_then(|e| e.field);
        assert_eq!(field.as_deref(), Some("domains.0.id"));
        let saved = u.editor.as_ref().unwrap().value.to_string();
        let back = AppState::default().with_saved_draft("", Some(&saved), None);
        assert_eq!(back.editor.as_ref().map(|d| d.value.to_string()), Some(saved.clone()), "restored");
        let reload = AppState::default().with_saved_draft("#v1.abc", Some(&saved), Some("v1.abc"));
        assert!(reload.editor.is_some(), "a reload of the session's own link restores it");
        let linked = AppState::default().with_saved_draft("#v1.abc", Some(&saved), Some("v1.other"));
        assert!(linked.editor.is_none(), "another link wins over the saved draft");
        let corrupt = AppState::default().with_saved_draft("", Some("{\"masters\": [1,"), None);
        let notice = corrupt.link_error.unwrap_or_default();
        assert!(corrupt.editor.is_none() && notice.contains("unfinished scenario"), "{notice}");
        let other = reduce(u, Action::Scenario("release-race".into()));
        assert!(other.editor.is_none(), "another scenario closes the draft");
    }

    #[test]
    fn every_builtin_view_runs_and_its_blocks_move() {
        for id in builtin::ids() {
            for v in Variant::ALL {
                for g in Granularity::ALL {
                    let s = Rc::new(AppState::new(id, v, g));
                    assert!(s.error.is_none(), "{id} {v} {g}: {:?}", s.error);
                    assert!(!s.blocks.is_empty(), "{id} {v} {g}");
                    let n = s.blocks.len();
                    let s = reduce(s, Action::Move { from: n - 1, to: 0 });
                    let s = reduce(s, Action::Nudge { from: n / 2, later: true });
                    // Branches can make a run shorter or longer; it still runs to the end.
                    assert!(!s.blocks.is_empty() && s.error.is_none(), "{id} {v} {g}");
                }
            }
        }
    }

    #[test]
    fn cursor_moves_and_clamps() {
        let s = Rc::new(AppState::default());
        let s = reduce(s, Action::CursorHome);
        assert_eq!(s.cursor, None);
        let s = reduce(s, Action::CursorBy(1));
        assert_eq!(s.cursor, Some(0));
        let s = reduce(s, Action::CursorBy(-1));
        assert_eq!(s.cursor, None);
        let s = reduce(s, Action::CursorEnd);
        assert_eq!(s.cursor, Some(s.blocks.len() - 1));
        let s = reduce(s, Action::CursorBy(5));
        assert_eq!(s.cursor, Some(s.blocks.len() - 1));
    }

    #[test]
    fn a_schedule_typo_stays_in_the_field_until_the_next_run() {
        let s = reduce(Rc::new(AppState::default()), Action::LoadText("CPU0*4 CPU9".into()));
        assert_eq!(s.field_text(), "CPU0*4 CPU9");
        assert!(s.error.as_deref().unwrap_or_default().contains("CPU9"), "{:?}", s.error);
        let s = reduce(s, Action::LoadText("CPU0*4".into()));
        assert_eq!((s.field_text(), s.error.clone()), (s.intent_text(), None));
    }

    #[test]
    fn undo_and_redo_walk_the_edits_and_a_new_scenario_forgets_them() {
        let s0 = Rc::new(AppState::default());
        let n = s0.blocks.len();
        let s1 =
            reduce(s0.clone(), Action::Move { from: s0.blocks.iter().find(|b| b.lane == 1).unwrap().index, to: n - 1 });
        let s2 = reduce(s1.clone(), Action::ToggleFix);
        let s3 = reduce(s2.clone(), Action::Cursor(Some(4)));
        assert!(s3.history.can_undo() && !s3.history.can_redo(), "a cursor move is not an edit");
        let u1 = reduce(s3, Action::Undo);
        assert_eq!((u1.variant, &u1.intent), (Variant::Pre, &s1.intent), "undo the fix switch");
        let u0 = reduce(u1, Action::Undo);
        assert_eq!((&u0.intent, &u0.blocks), (&s0.intent, &s0.blocks), "undo the move");
        assert!(!u0.history.can_undo());
        let r1 = reduce(u0, Action::Redo);
        assert_eq!(r1.intent, s1.intent);
        let r2 = reduce(r1, Action::Redo);
        assert_eq!((r2.variant, &r2.blocks), (Variant::Fix, &s2.blocks));
        let other = reduce(r2, Action::Scenario("attach-storm-1".into()));
        assert!(!other.history.can_undo(), "another scenario starts a new history");
    }

    #[test]
    fn a_step_held_back_by_a_lock_says_so_when_moved_earlier() {
        let mut s = reduce(Rc::new(AppState::default()), Action::ToggleFix);
        let waited = s.blocks.iter().find(|b| b.waited.is_some()).unwrap().clone();
        let mut notes = Vec::new();
        for _ in 0..s.blocks.len() {
            let from = s.find(waited.lane, waited.nth).unwrap();
            s = reduce(s, Action::Nudge { from, later: false });
            notes.extend(s.move_note.clone());
        }
        assert!(notes.iter().any(|n| n.contains("arm_smmu_asid_lock") && n.contains("CPU0")), "{notes:?}");
    }

    /// The fix switch on every built-in's default run: where the run violated before the fix,
    /// the page shows a wait for the asid lock with every safety invariant holding, or the
    /// scenario expects a violation under the fix too (the release race, the mutations the
    /// lock does not cover).
    #[test]
    fn the_fix_switch_shows_a_lock_wait_wherever_a_default_run_violated() {
        for id in builtin::ids() {
            for g in Granularity::ALL {
                let s = Rc::new(AppState::new(id, Variant::Pre, g));
                if safety(&s).is_empty() {
                    continue;
                }
                let f = reduce(s, Action::ToggleFix);
                let waits =
                    f.blocks.iter().filter(|b| b.waited.as_ref().is_some_and(|w| w.1.contains("arm_smmu_asid_lock")));
                let expect = builtin::get(id).and_then(|b| b.expect);
                let open = expect.is_some_and(|e| !e.fix.at(g).is_empty());
                assert!(open || (waits.count() > 0 && safety(&f).is_empty()), "{id} {g}: {:?}", safety(&f));
            }
        }
    }

    #[test]
    fn a_bad_schedule_is_an_error_not_a_panic() {
        let s = Rc::new(AppState::default());
        let before = s.intent.clone();
        let s = reduce(s, Action::LoadText("CPU0 CPU9".into()));
        assert!(s.error.as_deref().unwrap().contains("unknown thread"));
        assert_eq!(s.intent, before);
    }

    #[test]
    fn nudging_moves_past_one_step_of_another_thread() {
        let s = Rc::new(AppState::default());
        let first = s.blocks.iter().find(|b| b.lane == 1).unwrap().index;
        let s = reduce(s, Action::Nudge { from: first, later: false });
        assert_eq!(s.blocks[first - 1].lane, 1);
        assert_eq!(s.focus, Some(first - 1));
    }

    #[test]
    fn import_reports_bad_input_and_opens_json_and_links() {
        let s = Rc::new(AppState::default());
        let bad = |text: &str| reduce(s.clone(), Action::Import(text.into())).import_error.clone().unwrap();
        assert!(bad("").contains("nothing to import"));
        assert!(bad("{\"format\": 1,").contains("scenario JSON"), "{}", bad("{"));
        assert!(bad("v1.AAAA").contains("damaged"));
        assert!(bad("https://example.org/#v7.AAAA").contains("newer version"));
        let t = reduce(s.clone(), Action::ImportDismiss);
        assert_eq!(t.import_error, None);

        let storm = Rc::new(AppState::new("attach-storm-2", Variant::Fix, Granularity::Mail));
        let (world, trace) = (storm.world.clone().unwrap(), storm.trace.clone().unwrap());
        let json = storm.scenario.with_schedule(&world, &trace.schedule()).to_json();
        let t = reduce(s.clone(), Action::Import(json));
        assert_eq!((t.scenario.id.as_str(), t.variant, t.import_error.clone()), ("attach-storm-2", Variant::Fix, None));
        // The export holds the schedule as it ran, so steps the scheduler ran are now explicit.
        let order = |s: &AppState| s.blocks.iter().map(|b| (b.lane, b.nth, b.violations.clone())).collect::<Vec<_>>();
        assert!(order(&t) == order(&storm), "the same timeline");
        assert_eq!(t.imports, 1);

        let link = storm.link().unwrap();
        let t = reduce(s.clone(), Action::Import(format!("http://x/#embed/{link}")));
        assert!(t.blocks == storm.blocks, "a link replays exactly");
    }

    #[test]
    fn an_embed_link_opens_the_same_run() {
        let s = reduce(Rc::new(AppState::default()), Action::ToggleFix);
        let link = s.link().unwrap();
        let e = AppState::from_link(&format!("#embed/{link}"));
        assert_eq!((e.variant, e.error.clone()), (Variant::Fix, None));
        assert_eq!(e.blocks, s.blocks);
        let d = AppState::from_link("#embed");
        assert_eq!((d.scenario.id.as_str(), d.error.clone()), ("seed-race", None));
    }
}
