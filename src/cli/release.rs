//! Arguments of `shipgate release`: publishing a draft release after its assets (issue 15).

use clap::{Args, Subcommand};

use super::AuditAppendArgs;
use crate::model::RunId;

/// `shipgate release`.
#[derive(Debug, Subcommand)]
pub enum ReleaseCommand {
    /// Publish a draft release that a run shipped with `publish: after_assets`, once the
    /// release workflow has attached its assets; records `release_published` on the chain.
    #[command(
        after_help = "Example:\n  shipgate release publish --tag v1.4.0\n  shipgate release publish --run run_3f9a0c1d2e4b5a6978c0d1e2 --tag v1.4.0\n\nNo receipt is used: the approval of the release operation covered publishing it. Only\nthe run that shipped the draft may publish it, only with the approved title, notes and\nflags, and only once (a second call reports it already published and changes nothing).\n\nExit codes: 0 published (or already), 1 refused (the reason code is printed), 3 GitHub or\ngit failed, 4 the chain failed verification."
    )]
    Publish(ReleasePublishArgs),
}

/// `shipgate release publish`.
#[derive(Debug, Args)]
pub struct ReleasePublishArgs {
    /// The run that shipped the draft release (default: the run the chain records as having
    /// shipped the tag's release, which is the only one that may publish it).
    #[arg(long, value_name = "RUN_ID", value_parser = RunId::parse)]
    pub run: Option<RunId>,
    /// The release's tag.
    #[arg(long, value_name = "TAG")]
    pub tag: String,
    #[command(flatten)]
    pub append: AuditAppendArgs,
}
