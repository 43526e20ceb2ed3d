//! The file formats the command reads and writes, how an input's format is recognised from
//! its first bytes, and how an output's format follows from its file name.

use clap::ValueEnum;
use std::fmt;
use std::path::Path;

/// Formats records are read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InputFormat {
    /// ISO 2709 (MARC 21 transmission format, `.mrc`)
    #[value(name = "iso2709", alias = "marc", alias = "mrc")]
    Iso2709,
    /// MARCXML
    Xml,
    /// MARC-in-JSON: an array, one record object, or JSON Lines (objects one after another)
    Json,
    /// MarcEdit's mnemonic text (.mrk)
    Mrk,
}

/// Formats records are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// ISO 2709 (MARC 21 transmission format, `.mrc`), UTF-8
    #[value(name = "iso2709", alias = "marc", alias = "mrc")]
    Iso2709,
    /// MARCXML, UTF-8
    Xml,
    /// MARC-in-JSON, an array of records
    Json,
    /// MARC-in-JSON Lines, one record object per line
    #[value(alias = "ndjson")]
    Jsonl,
    /// MarcEdit's mnemonic text (.mrk), which MarcMaker and `fastmarc convert` read back
    Mrk,
    /// MARC text, as pymarc prints a record (`=245  10$aTitle`)
    Text,
}

impl fmt::Display for InputFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            InputFormat::Iso2709 => "ISO 2709",
            InputFormat::Xml => "MARCXML",
            InputFormat::Json => "MARC-in-JSON",
            InputFormat::Mrk => "MARC text (.mrk)",
        })
    }
}

impl fmt::Display for OutputFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            OutputFormat::Iso2709 => "ISO 2709",
            OutputFormat::Xml => "MARCXML",
            OutputFormat::Json => "MARC-in-JSON",
            OutputFormat::Jsonl => "MARC-in-JSON Lines",
            OutputFormat::Mrk => "MARC text (.mrk)",
            OutputFormat::Text => "MARC text",
        })
    }
}

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// What the first bytes of an input say about its format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sniffed {
    Format(InputFormat),
    /// Only a byte order mark and whitespace so far: more bytes are needed.
    Undecided,
    /// Not the start of any format we read.
    Unknown,
}

/// Recognise a format from the start of an input: ISO 2709 starts with its record length
/// (digits), MARCXML with `<`, MARC-in-JSON with `[` or `{`, .mrk text with `=` (or a `#`
/// comment); the marks may follow a UTF-8 byte order mark and whitespace. Empty input counts as ISO 2709 (a file
/// of no records).
pub fn sniff(prefix: &[u8]) -> Sniffed {
    if prefix.is_empty() {
        return Sniffed::Undecided;
    }
    if prefix[0].is_ascii_digit() {
        return Sniffed::Format(InputFormat::Iso2709);
    }
    let body = prefix.strip_prefix(UTF8_BOM).unwrap_or(prefix);
    // A prefix of the byte order mark itself: wait for the rest of it.
    if body.len() == prefix.len() && UTF8_BOM.starts_with(prefix) {
        return Sniffed::Undecided;
    }
    match body.iter().find(|b| !b.is_ascii_whitespace()) {
        None => Sniffed::Undecided,
        Some(b'<') => Sniffed::Format(InputFormat::Xml),
        Some(b'[' | b'{') => Sniffed::Format(InputFormat::Json),
        Some(b'=' | b'#') => Sniffed::Format(InputFormat::Mrk),
        Some(_) => Sniffed::Unknown,
    }
}

/// The output format a file name asks for, by its extension.
pub fn output_format_for_path(path: &Path) -> Option<OutputFormat> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    match ext.as_str() {
        "mrc" | "dat" | "marc" => Some(OutputFormat::Iso2709),
        "xml" => Some(OutputFormat::Xml),
        "json" => Some(OutputFormat::Json),
        "jsonl" | "ndjson" => Some(OutputFormat::Jsonl),
        "mrk" | "mrk8" => Some(OutputFormat::Mrk),
        "txt" => Some(OutputFormat::Text),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_each_format() {
        assert_eq!(sniff(b"00123nam"), Sniffed::Format(InputFormat::Iso2709));
        assert_eq!(sniff(b"<?xml"), Sniffed::Format(InputFormat::Xml));
        assert_eq!(
            sniff(b"\xEF\xBB\xBF \n<collection"),
            Sniffed::Format(InputFormat::Xml)
        );
        assert_eq!(sniff(b"  [{"), Sniffed::Format(InputFormat::Json));
        assert_eq!(sniff(b"{\"leader\""), Sniffed::Format(InputFormat::Json));
        assert_eq!(sniff(b""), Sniffed::Undecided);
        assert_eq!(sniff(b"\xEF\xBB"), Sniffed::Undecided);
        assert_eq!(sniff(b" \n\t"), Sniffed::Undecided);
        assert_eq!(sniff(b"=LDR  "), Sniffed::Format(InputFormat::Mrk));
        assert_eq!(sniff(b"\n# comment"), Sniffed::Format(InputFormat::Mrk));
        assert_eq!(sniff(b"hello"), Sniffed::Unknown);
        assert_eq!(sniff(b"\xEF\xBB\xBFx"), Sniffed::Unknown);
    }

    #[test]
    fn output_format_follows_extension() {
        let f = |p: &str| output_format_for_path(Path::new(p));
        assert_eq!(f("a.mrc"), Some(OutputFormat::Iso2709));
        assert_eq!(f("a.MARC"), Some(OutputFormat::Iso2709));
        assert_eq!(f("dir/a.dat"), Some(OutputFormat::Iso2709));
        assert_eq!(f("a.xml"), Some(OutputFormat::Xml));
        assert_eq!(f("a.json"), Some(OutputFormat::Json));
        assert_eq!(f("a.txt"), Some(OutputFormat::Text));
        assert_eq!(f("a.jsonl"), Some(OutputFormat::Jsonl));
        assert_eq!(f("a.mrk"), Some(OutputFormat::Mrk));
        assert_eq!(f("a.csv"), None);
        assert_eq!(f("noext"), None);
    }
}
