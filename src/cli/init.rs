//! clap types of `shipgate init`.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

/// The preset a new policy extends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PresetArg {
    /// Tags and releases need two release managers, pull requests one; authors never count.
    TwoPersonRelease,
    /// One maintainer approves every operation, their own plans included.
    SoloMaintainer,
}

/// `shipgate init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// The git repository to set up (default: the one enclosing the current directory).
    #[arg(long, value_name = "DIR")]
    pub repo: Option<PathBuf>,
    /// The preset the policy extends.
    #[arg(long, value_enum, default_value_t = PresetArg::TwoPersonRelease)]
    pub preset: PresetArg,
    /// A GitHub login allowed to approve (the preset's group); repeat for each person.
    #[arg(long = "approver", value_name = "LOGIN")]
    pub approvers: Vec<String>,
    /// A team (org/team-slug) allowed to approve; membership is read from GitHub, which needs
    /// a token that can read it (the default GITHUB_TOKEN cannot).
    #[arg(long = "team", value_name = "ORG/TEAM")]
    pub teams: Vec<String>,
    /// A GitHub login allowed to halt and resume (default: the approvers); repeatable.
    #[arg(long = "halt-admin", value_name = "LOGIN")]
    pub halt_admins: Vec<String>,
    /// The action the workflows use (default: shipgate/shipgate@v<this version>).
    #[arg(long, value_name = "REF")]
    pub action: Option<String>,
    /// The approve and ship workflows act with a GitHub App's installation token, made by
    /// actions/create-github-app-token from the `SHIPGATE_APP_CLIENT_ID` variable and the
    /// `SHIPGATE_APP_PRIVATE_KEY` secret: tags and releases it makes start other workflows
    /// (GITHUB_TOKEN's start none), and it may open pull requests without the repository's
    /// "Allow GitHub Actions to create and approve pull requests" setting.
    #[arg(long)]
    pub app_token: bool,
    /// The default branch the ship workflow runs on (default: origin/HEAD, then main, then
    /// master, else main).
    #[arg(long, value_name = "NAME")]
    pub default_branch: Option<String>,
    /// Overwrite files that exist.
    #[arg(long)]
    pub force: bool,
}
