//! The command line: subcommands, their arguments and their help.

use crate::format::{InputFormat, OutputFormat};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::num::NonZeroUsize;
use std::path::PathBuf;

const AFTER_HELP: &str = "\
Input formats are recognised from the content: ISO 2709 starts with five digits, MARCXML
with '<', MARC-in-JSON with '[' or '{' (an array, or records one after another as in JSON
Lines), MarcEdit's .mrk text with '='. Use '-' for stdin or stdout.

Exit status: 0 success, 1 bad data or problems found, 2 usage error, 130 interrupted.";

/// Count, inspect, validate, convert, split and join MARC 21 files.
#[derive(Debug, Parser)]
#[command(
    name = "fastmarc",
    version,
    after_help = AFTER_HELP,
    arg_required_else_help = true,
    propagate_version = true,
    disable_help_subcommand = true
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
    Help(HelpArgs),
    Completions(CompletionsArgs),
    Manpage(ManpageArgs),
}

/// Print the help of the command or of one subcommand.
#[derive(Debug, Args)]
pub struct HelpArgs {
    /// The subcommand to explain
    #[arg(value_name = "COMMAND")]
    pub command: Option<String>,
}

/// How text is decoded, whatever leader/09 says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FromEncoding {
    /// UTF-8 (for files whose leader/09 is blank although they are UTF-8)
    #[value(name = "utf8", alias = "utf-8")]
    Utf8,
    /// MARC-8
    #[value(name = "marc8", alias = "marc-8")]
    Marc8,
    /// ISO 8859-1: each byte one character
    #[value(name = "latin1", alias = "iso-8859-1")]
    Latin1,
}

/// The character set ISO 2709 output is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ToEncoding {
    /// UTF-8, leader/09 'a'
    #[value(name = "utf8", alias = "utf-8")]
    Utf8,
    /// MARC-8, leader/09 blank; characters MARC-8 lacks become &#xXXXX; with a warning
    #[value(name = "marc8", alias = "marc-8")]
    Marc8,
}

/// A Unicode normalisation form for the text read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Normalize {
    /// Composed characters (what MARC 21 recommends)
    Nfc,
    /// Decomposed characters
    Nfd,
    /// Text as read
    #[default]
    None,
}

/// How problems are reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum ReportFormat {
    /// One line per problem, then a summary line
    #[default]
    Text,
    /// One JSON object per problem and one for the summary, a line each (JSON Lines)
    Json,
}

/// Which records a command reads.
#[derive(Debug, Args, Clone, Copy)]
pub struct WindowArgs {
    /// Skip the first N records
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub offset: u64,

    /// Stop after N records
    #[arg(long, value_name = "N")]
    pub limit: Option<u64>,
}

/// How records are read: format, character set, which records, parser threads.
#[derive(Debug, Args, Clone, Copy)]
pub struct ReadArgs {
    /// Input format [default: recognised from the content]
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub from: Option<InputFormat>,

    /// Decode ISO 2709 text as this, whatever leader/09 says [default: by leader/09]
    #[arg(long, value_enum, value_name = "CHARSET")]
    pub from_encoding: Option<FromEncoding>,

    /// Normalise the text read to this Unicode form
    #[arg(long, value_enum, value_name = "FORM", default_value = "none")]
    pub normalize: Normalize,

    #[command(flatten)]
    pub window: WindowArgs,

    /// Threads parsing ISO 2709 [default: every core; 1 parses on the main thread]. Writing
    /// Parquet with more than one, each column is also encoded on a thread of its own;
    /// reading Parquet with more than one, the file is decoded on a thread of its own.
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
    /// Input files ('-' for stdin) [default: stdin]
    #[arg(value_name = "FILE", default_value = "-")]
    pub files: Vec<PathBuf>,
    /// Keep only records for which this holds (repeatable: all must): a MARCspec path,
    /// alone (it exists) or with = != ~ (contains) !~ and a value: '008/35-37=fre',
    /// '650$a~Fiction', '!856'
    #[arg(long = "select", value_name = "EXPR")]
    pub select: Vec<String>,
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

/// Convert between ISO 2709, MARCXML, MARC-in-JSON, MarcEdit's .mrk text and Parquet
/// (.parquet), or to MARC text.
///
/// MARC-8 records are decoded to Unicode and written as UTF-8 with leader/09 set to 'a'
/// (or, with --to-encoding marc8, ISO 2709 is written in MARC-8). Characters MARCXML
/// cannot carry (control characters) are an error, or with --permissive written as U+FFFD
/// with a warning. The output file gets its name only when the conversion succeeds; after
/// a failure, what was written is in OUT.partial.
#[derive(Debug, Args)]
pub struct ConvertArgs {
    /// Input file ('-' for stdin)
    #[arg(value_name = "IN")]
    pub input: PathBuf,
    /// Output file ('-' for stdout) [default: stdout]
    #[arg(value_name = "OUT", conflicts_with = "output_option")]
    pub output: Option<PathBuf>,
    /// Output file, as for cat ('-' for stdout)
    #[arg(short = 'o', long = "output", value_name = "OUT", id = "output_option")]
    pub output_option: Option<PathBuf>,
    /// Output format [default: from OUT's extension (.mrc .dat .marc, .xml, .json, .jsonl,
    /// .mrk, .txt); ISO 2709 on stdout]
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub to: Option<OutputFormat>,
    /// For a .parquet OUT: the columns, as NAME=MARCSPEC pairs (id=001,title='245$a[0]')
    /// [default: every field, in the nested schema]
    #[arg(long, value_name = "COLUMNS")]
    pub fields: Option<String>,
    /// Character set of ISO 2709 output
    #[arg(long, value_enum, value_name = "CHARSET", default_value = "utf8")]
    pub to_encoding: ToEncoding,
    /// MARCXML with every element on its own line, indented [default: one record per line]
    #[arg(long)]
    pub pretty: bool,
    /// Set leader positions, as POS=VALUE (09=a) or POS-POS=VALUE (05-07=nam); repeatable
    #[arg(long = "set-leader", value_name = "POS=VALUE", value_parser = parse_leader_edit)]
    pub set_leader: Vec<LeaderEdit>,
    /// Keep only records for which this holds (repeatable: all must): a MARCspec path,
    /// alone (it exists) or with = != ~ (contains) !~ and a value: '008/35-37=fre',
    /// '650$a~Fiction', '!856'
    #[arg(long = "select", value_name = "EXPR")]
    pub select: Vec<String>,
    /// Leave out fields with these tags (repeatable or comma-separated; X is a wildcard: 9XX)
    #[arg(long = "delete-tag", value_name = "TAG", value_delimiter = ',', value_parser = parse_tag)]
    pub delete_tags: Vec<TagPattern>,
    #[command(flatten)]
    pub read: ReadArgs,
    #[command(flatten)]
    pub permissive: PermissiveArg,
}

impl ConvertArgs {
    /// Where the output goes: OUT, or -o OUT, or stdout.
    pub fn output_path(&self) -> PathBuf {
        self.output
            .clone()
            .or_else(|| self.output_option.clone())
            .unwrap_or_else(|| PathBuf::from("-"))
    }
}

/// Print records in MARC text form, a blank line between records.
#[derive(Debug, Args)]
pub struct DumpArgs {
    /// Input file ('-' for stdin)
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Show only fields with these tags (repeatable, or comma-separated; X is a wildcard:
    /// 6XX); the leader is always shown
    #[arg(long = "tag", value_name = "TAG", value_delimiter = ',', value_parser = parse_tag)]
    pub tags: Vec<TagPattern>,
    /// Before each record, a '#' line with its number and byte offset (ISO 2709 input)
    #[arg(long)]
    pub print_offsets: bool,
    /// Keep only records for which this holds (repeatable: all must): a MARCspec path,
    /// alone (it exists) or with = != ~ (contains) !~ and a value: '008/35-37=fre',
    /// '650$a~Fiction', '!856'
    #[arg(long = "select", value_name = "EXPR")]
    pub select: Vec<String>,
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
    /// Report format
    #[arg(long, value_enum, value_name = "FORMAT", default_value = "text")]
    pub format: ReportFormat,
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
    /// Overwrite parts that exist already
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub window: WindowArgs,
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
    /// --offset and --limit apply to each file
    #[command(flatten)]
    pub window: WindowArgs,
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

/// A tag, or a tag pattern where `X` stands for any character (`6XX`, `9XX`, `X00`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TagPattern([u8; 3]);

impl TagPattern {
    pub fn matches(&self, tag: &[u8; 3]) -> bool {
        self.0
            .iter()
            .zip(tag)
            .all(|(&p, &t)| p == b'X' || p == b'x' || p == t)
    }
}

/// A field tag or pattern: three ASCII letters or digits.
fn parse_tag(s: &str) -> Result<TagPattern, String> {
    match s.as_bytes() {
        &[a, b, c] if [a, b, c].iter().all(u8::is_ascii_alphanumeric) => Ok(TagPattern([a, b, c])),
        _ => Err(format!(
            "{s:?} is not a tag (three letters or digits, like 245, or with X for any digit, like 6XX)"
        )),
    }
}

/// A change to leader positions `start..=end`: each set to `value`'s characters in turn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaderEdit {
    pub start: usize,
    pub value: Vec<u8>,
}

/// `09=a`, `05-07=nam`, `17=' '` (a blank may be written `\` or `_`).
fn parse_leader_edit(s: &str) -> Result<LeaderEdit, String> {
    let bad = || {
        format!("{s:?} is not a leader edit (POS=VALUE like 09=a, or POS-POS=VALUE like 05-07=nam)")
    };
    let (positions, value) = s.split_once('=').ok_or_else(bad)?;
    let (start, end) = match positions.split_once('-') {
        Some((a, b)) => (a, b),
        None => (positions, positions),
    };
    let start: usize = start.trim().parse().map_err(|_| bad())?;
    let end: usize = end.trim().parse().map_err(|_| bad())?;
    let value: Vec<u8> = value
        .bytes()
        .map(|b| if b == b'\\' || b == b'_' { b' ' } else { b })
        .collect();
    if end >= 24 || start > end {
        return Err(format!("{s:?}: leader positions go from 00 to 23"));
    }
    if value.len() != end - start + 1 || !value.iter().all(|b| b.is_ascii_graphic() || *b == b' ') {
        return Err(format!(
            "{s:?}: the value must be {} ASCII character{} for those positions",
            end - start + 1,
            if end == start { "" } else { "s" }
        ));
    }
    Ok(LeaderEdit { start, value })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_patterns_match_with_wildcards() {
        let p = parse_tag("6XX").unwrap();
        assert!(p.matches(b"650") && p.matches(b"600") && !p.matches(b"700"));
        assert!(parse_tag("245").unwrap().matches(b"245"));
        assert!(!parse_tag("245").unwrap().matches(b"246"));
        assert!(parse_tag("24").is_err() && parse_tag("2 5").is_err());
    }

    #[test]
    fn leader_edits_name_positions_and_values() {
        assert_eq!(
            parse_leader_edit("09=a").unwrap(),
            LeaderEdit {
                start: 9,
                value: b"a".to_vec()
            }
        );
        assert_eq!(
            parse_leader_edit("05-07=n_m").unwrap(),
            LeaderEdit {
                start: 5,
                value: b"n m".to_vec()
            }
        );
        assert!(parse_leader_edit("24=a").is_err());
        assert!(parse_leader_edit("05-07=ab").is_err());
        assert!(parse_leader_edit("x=a").is_err());
    }
}
