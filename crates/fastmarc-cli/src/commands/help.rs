//! `fastmarc help [COMMAND]`: the help of the command or of one subcommand.

use crate::args::{Cli, HelpArgs};
use crate::failure::{Failure, EXIT_OK};
use clap::CommandFactory;

pub fn run(args: HelpArgs) -> Result<i32, Failure> {
    let mut cli = Cli::command();
    cli.build();
    let printed = match &args.command {
        None => cli.print_long_help(),
        Some(name) => match cli.find_subcommand_mut(name) {
            Some(sub) => sub.print_long_help(),
            None => {
                return Err(Failure::usage(format!(
                    "there is no command {name:?}; `fastmarc --help` lists them"
                )))
            }
        },
    };
    printed.map_err(|e| Failure::io("<stdout>", "write error", &e))?;
    Ok(EXIT_OK)
}
