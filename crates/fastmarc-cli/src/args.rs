//! The command line: subcommands, their arguments and their help.

use crate::format::{InputFormat, OutputFormat};
use clap::{Args, Parser, Subcommand};
use std::num::NonZeroUsize;
use std::path::PathBuf;

const AFTER_HELP: &str = "\
Input formats are recognised from the content: ISO 2709 starts with five digits, MARCXML
with '<', MARC-in-JSON with '[' or '{'. Use '-' for stdin or stdout.

Exit status: 0 success, 1 bad data or problems found, 2 usage error, 130 interrupted.";

/// Count, inspect, validate, convert, split and join MARC 21 files.
#[derive(Debug, Parser)]
#[command(
    name = "fastmarc",
    version,
    after_help = AFTER_HELP,
    arg_required_else_help = true,
    propagate_version = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    Count(CountArgs),
    Stats(StatsArgs),
    Convert(ConvertArgs),
    Dump(DumpArgs),
    Validate(ValidateArgs),
    Split(SplitArgs),
    Cat(CatArgs),
    Completions(CompletionsArgs),
    Manpage(ManpageArgs),
}

/// How records are read: format and parser threads.
#[derive(Debug, Args, Clone, Copy)]
pub struct ReadArgs {
    /// Input format [default: recognised from the content]
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub from: Option<InputFormat>,

    /// Threads parsing ISO 2709 [default: every core; 1 parses on the main thread]
    #[arg(long, value_name = "N")]
    pub threads: Option<NonZeroUsize>,
}

/// What to do with a bad record, for the commands that parse records.
#[derive(Debug, Args, Clone, Copy)]
pub struct PermissiveArg {
    /// Read records as leniently as pymarc does (odd indicators and subfield codes taken as
    /// they are); skip a record that cannot be read at all with a warning and go on
    /// [default: strict, the first bad record is an error]
    #[arg(long)]
    pub permissive: bool,
}

/// What to do with broken framing, for the commands that copy records' bytes.
#[derive(Debug, Args, Clone, Copy)]
pub struct PermissiveFramingArg {
    /// Skip broken framing with a warning, up to the next record terminator, and go on
    /// [default: the first one is an error]
    #[arg(long)]
    pub permissive: bool,
}

/// Whether bad records make `stats` fail.
#[derive(Debug, Args, Clone, Copy)]
pub struct AcceptErrorsArg {
    /// Exit with status 0 even if bad records were found (they are listed either way)
    #[arg(long)]
    pub permissive: bool,
}

/// Print the number of records (with several files, one line per file and a total).
#[derive(Debug, Args)]
pub struct CountArgs {
    /// Input files ('-' for stdin)
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,
    #[command(flatten)]
    pub read: ReadArgs,
    #[command(flatten)]
    pub permissive: PermissiveArg,
}

/// Summarise a file: records, bytes, encodings, record types, bibliographic levels, tags
/// and errors.
///
/// The whole file is read even after bad records, which are listed at the end; the exit
/// status is 1 if there were any, unless --permissive.
#[derive(Debug, Args)]
pub struct StatsArgs {
    /// Input file ('-' for stdin)
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    #[command(flatten)]
    pub read: ReadArgs,
    #[command(flatten)]
    pub permissive: AcceptErrorsArg,
}

/// Convert between ISO 2709, MARCXML, MARC-in-JSON and Parquet (.parquet), or to MARC text.
///
/// MARC-8 records are decoded to Unicode and written as UTF-8 with leader/09 set to 'a'.
#[derive(Debug, Args)]
pub struct ConvertArgs {
    /// Input file ('-' for stdin)
    #[arg(value_name = "IN")]
    pub input: PathBuf,
    /// Output file ('-' for stdout)
    #[arg(value_name = "OUT")]
    pub output: PathBuf,
    /// Output format [default: from OUT's extension (.mrc .dat .marc, .xml, .json, .txt);
    /// ISO 2709 on stdout]
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub to: Option<OutputFormat>,
    /// For a .parquet OUT: the columns, as NAME=MARCSPEC pairs (id=001,title='245$a[0]')
    /// [default: every field, in the nested schema]
    #[arg(long, value_name = "COLUMNS")]
    pub fields: Option<String>,
    #[command(flatten)]
    pub read: ReadArgs,
    #[command(flatten)]
    pub permissive: PermissiveArg,
}

/// Print records in MARC text form, a blank line between records.
#[derive(Debug, Args)]
pub struct DumpArgs {
    /// Input file ('-' for stdin)
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Show only fields with these tags (repeatable, or comma-separated); the leader is
    /// always shown
    #[arg(long = "tag", value_name = "TAG", value_delimiter = ',', value_parser = parse_tag)]
    pub tags: Vec<String>,
    #[command(flatten)]
    pub read: ReadArgs,
    #[command(flatten)]
    pub permissive: PermissiveArg,
}

/// Check every record strictly and list every problem with its record number and byte
/// offset.
///
/// Problems go to stdout, then a summary line per file; the exit status is 1 if any were
/// found. ISO 2709 reading resynchronises after a problem, so every record is checked.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Input files ('-' for stdin)
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,
    #[command(flatten)]
    pub read: ReadArgs,
}

/// Split an ISO 2709 file into files of N records each, copying each record's bytes
/// unchanged.
#[derive(Debug, Args)]
pub struct SplitArgs {
    /// Input file ('-' for stdin)
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Records per output file
    #[arg(long, value_name = "N")]
    pub records: NonZeroUsize,
    /// Output names are PREFIX0001.mrc, PREFIX0002.mrc, ... [default: FILE's name without
    /// its extension, and '-', in the current directory]
    #[arg(long, value_name = "PREFIX")]
    pub prefix: Option<String>,
    #[command(flatten)]
    pub permissive: PermissiveFramingArg,
}

/// Join ISO 2709 files byte for byte, checking each record's framing.
#[derive(Debug, Args)]
pub struct CatArgs {
    /// Input files ('-' for stdin)
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,
    /// Output file [default: stdout]
    #[arg(short, long, value_name = "OUT", default_value = "-")]
    pub output: PathBuf,
    #[command(flatten)]
    pub permissive: PermissiveFramingArg,
}

/// Print a completion script for a shell.
///
/// For example, in bash: `fastmarc completions bash > ~/.local/share/bash-completion/completions/fastmarc`;
/// in zsh: `fastmarc completions zsh > ~/.zfunc/_fastmarc` (with ~/.zfunc in $fpath); in fish:
/// `fastmarc completions fish > ~/.config/fish/completions/fastmarc.fish`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete in
    #[arg(value_enum, value_name = "SHELL")]
    pub shell: clap_complete::Shell,
}

/// Print the manual page (roff), or write every page into a folder.
///
/// `fastmarc manpage | man -l -` shows it; `fastmarc manpage --dir ~/.local/share/man/man1`
/// installs it for `man fastmarc` and `man fastmarc-convert`.
#[derive(Debug, Args)]
pub struct ManpageArgs {
    /// Write fastmarc.1 and one fastmarc-SUBCOMMAND.1 per subcommand into DIR instead
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// A field tag: three ASCII letters or digits.
fn parse_tag(s: &str) -> Result<String, String> {
    if s.len() == 3 && s.bytes().all(|b| b.is_ascii_alphanumeric()) {
        Ok(s.to_string())
    } else {
        Err(format!(
            "{s:?} is not a tag (three letters or digits, like 245)"
        ))
    }
}
