//! The last step of imagebump's data flow: selected images → YAML files in a Git working tree
//! → a commit message.
//!
//! * [`result`]: what an update changed (file → object → changes), the shape Flux's commit
//!   templates read.
//!
//! Not here: choosing tags (`imagebump-policy`) and talking to registries
//! (`imagebump-registry`).

pub mod git;
pub mod message;
pub mod result;
pub mod run;
pub mod setters;
pub mod template;

pub use result::{Change, LatestImage, ObjectId, Policies, UpdateResult};
