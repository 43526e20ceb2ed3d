//! `fastmarc manpage [--dir DIR]`: the manual pages, generated from the same clap definitions
//! as the command itself. Without `--dir`, fastmarc(1) goes to stdout; with it, fastmarc.1
//! and one fastmarc-SUBCOMMAND.1 per subcommand (as `man fastmarc-convert` finds them) are
//! written into DIR.

use crate::args::{Cli, ManpageArgs};
use crate::failure::{Failure, EXIT_OK};
use crate::output::stdout_error;
use clap::CommandFactory;
use std::io::Write;

pub fn run(args: ManpageArgs) -> Result<i32, Failure> {
    match args.dir {
        None => {
            let mut page = Vec::new();
            clap_mangen::Man::new(Cli::command())
                .render(&mut page)
                .map_err(|e| Failure::data(format!("cannot render the manual page: {e}")))?;
            let mut out = std::io::stdout().lock();
            out.write_all(&page)
                .and_then(|_| out.flush())
                .map_err(stdout_error)?;
        }
        Some(dir) => {
            let name = dir.display().to_string();
            std::fs::create_dir_all(&dir).map_err(|e| Failure::io(&name, "cannot create", &e))?;
            clap_mangen::generate_to(Cli::command(), &dir)
                .map_err(|e| Failure::io(&name, "cannot write the manual pages", &e))?;
        }
    }
    Ok(EXIT_OK)
}
