//! MARC text ("mnemonic") output, the form pymarc's `str(record)` prints:
//! `=LDR  leader`, then `=TAG  data` or `=TAG  II$aValue$bValue`, blanks shown as `\`.

use crate::record::{FieldRef, Record};
use std::fmt::{self, Write};

pub(crate) fn write_field(f: &FieldRef<'_>, out: &mut impl Write) -> fmt::Result {
    write!(out, "={}  ", f.tag())?;
    if let Some(data) = f.data() {
        for c in data.chars() {
            out.write_char(if c == ' ' { '\\' } else { c })?;
        }
        return Ok(());
    }
    for ind in f.indicators() {
        out.write_char(if ind == ' ' { '\\' } else { ind })?;
    }
    for s in f.subfields() {
        out.write_char('$')?;
        out.write_char(s.code)?;
        out.write_str(s.value)?;
    }
    Ok(())
}

pub(crate) fn write_record(r: &Record, out: &mut impl Write) -> fmt::Result {
    writeln!(out, "=LDR  {}", r.leader())?;
    for f in r.fields() {
        write_field(&f, out)?;
        out.write_char('\n')?;
    }
    Ok(())
}

/// Python's `str.isspace()`: Unicode White_Space plus the information separators 0x1C-0x1F,
/// which Python counts as whitespace. pymarc strips with it, so we must too.
pub fn is_py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Python's `str.strip()` with no arguments.
pub fn py_strip(s: &str) -> &str {
    // Most values begin and end with a printable ASCII character, never whitespace: settled
    // by two byte tests instead of decoding both ends.
    let printable = |b: Option<&u8>| b.is_some_and(|b| (0x21..0x7F).contains(b));
    if printable(s.as_bytes().first()) && printable(s.as_bytes().last()) {
        return s;
    }
    s.trim_matches(is_py_space)
}

#[cfg(test)]
mod tests {
    use crate::field::{Field, Subfield, Tag};
    use crate::record::Record;

    #[test]
    fn text_form_matches_pymarc_layout() {
        let mut r = Record::new();
        r.push(&Field::control(Tag::new("008").unwrap(), "870303s1987 ab"));
        r.push(&Field::data(
            Tag::new("245").unwrap(),
            '1',
            ' ',
            vec![Subfield::new('a', "A title"), Subfield::new('c', "Me.")],
        ));
        assert_eq!(
            r.to_string(),
            "=LDR  00000     2200000   4500\n=008  870303s1987\\ab\n=245  1\\$aA title$cMe.\n"
        );
    }

    #[test]
    fn py_strip_includes_separators() {
        assert_eq!(super::py_strip("\u{1f} x \u{1e}\n"), "x");
        // Every ASCII byte at either end, against the general rule.
        for b in 0u8..0x80 {
            let c = char::from(b);
            for s in [format!("{c}ab"), format!("ab{c}"), format!("{c}a{c}")] {
                let general = s.trim_matches(super::is_py_space);
                assert_eq!(super::py_strip(&s), general, "{s:?}");
            }
        }
        assert_eq!(super::py_strip("\u{85}x\u{3000}"), "x");
    }
}
