//! `shipgate keys`: generate a signing key into a private file and print only its public half.

use std::io::Write;

use crate::cli::KeysCommand;
use crate::cli::keys::KeyRole;
use crate::error::{Error, Outcome};
use crate::keys::{generate, write_private_key};
use crate::policy::SignerRole;

/// Runs a `keys` subcommand.
pub fn run(command: KeysCommand, out: &mut dyn Write) -> Result<Outcome, Error> {
    match command {
        KeysCommand::Generate {
            kid,
            role,
            out: file,
        } => {
            let role = match role {
                KeyRole::Mint => SignerRole::Mint,
                KeyRole::Audit => SignerRole::Audit,
            };
            let generated = generate(&kid, role)?;
            let path = file.unwrap_or_else(|| format!("{kid}.key").into());
            write_private_key(&path, &generated.private_openssh)?;
            writeln!(out, "{}", generated.public_line)?;
            writeln!(
                out,
                "# private key written to {} (mode 0600)",
                path.display()
            )?;
            writeln!(out, "# add to a policy under .shipgate/policies/:")?;
            write!(out, "{}", generated.policy_snippet())?;
            Ok(Outcome::Clean)
        }
    }
}
