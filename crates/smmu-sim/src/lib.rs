//! A step-level model of the Linux arm-smmu-v3 driver and the SMMU it programs.
//!
//! Kernel functions are step scripts ([`kernel`]) compiled into per-thread programs
//! ([`program`]) for one kernel [`Variant`] and [`Granularity`]; [`exec`] gives every step its
//! effect on the hardware and driver [`State`]; [`check`] tests the invariants after every
//! step; [`sched`] runs one schedule into a [`trace::Trace`]; [`explore`] counts every
//! interleaving. Nothing here does IO, reads a clock or draws a random number: the same
//! (scenario, variant, granularity, schedule) always gives the same trace.
//!
//! Reading order: `variant`, `ids`, `state`, `ste`, `program`, `kernel`, `exec`, `check`,
//! `sched`, `trace`, `explore`, `scenario`.
#![warn(missing_docs, missing_debug_implementations)]

pub mod builtin;
pub mod cause;
pub mod check;
pub mod diff;
pub mod exec;
pub mod explore;
pub mod ids;
pub mod kernel;
pub mod limits;
pub mod mail;
pub mod mutation;
pub mod patch;
pub mod program;
pub mod scenario;
pub mod sched;
pub mod share;
pub mod source;
pub mod state;
pub mod ste;
pub mod svg;
pub mod text;
pub mod trace;
pub mod variant;
pub mod view;
pub mod world;

pub use scenario::Scenario;
pub use state::State;
pub use variant::{Granularity, Variant};
pub use world::World;
