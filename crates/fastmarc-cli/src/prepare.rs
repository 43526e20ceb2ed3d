//! What happens to every record between reading and the command: text read as Latin-1
//! becomes Unicode, and text is normalised to the Unicode form asked for.

use crate::args::Normalize;
use fastmarc::{Record, TextEncoding};
use unicode_normalization::{is_nfc_quick, is_nfd_quick, IsNormalized, UnicodeNormalization};

/// The changes made to each record as it is read.
#[derive(Debug, Clone, Copy, Default)]
pub struct Prepare {
    /// The record was read byte for byte (ISO 8859-1): its text is Unicode.
    pub latin1: bool,
    pub normalize: Normalize,
    /// Text that was not valid UTF-8 is read as U+FFFD: say where.
    pub note_replacement: bool,
}

impl Prepare {
    /// Prepare `rec`; returns a warning about it as read.
    pub fn apply(&self, rec: &mut Record) -> Option<String> {
        let note = if self.note_replacement {
            field_with_replacement(rec)
                .map(|tag| format!("field {tag}: text that is not valid UTF-8 was read as U+FFFD"))
        } else {
            None
        };
        if self.latin1 && rec.encoding() == TextEncoding::Raw {
            // Each byte was read as the character with its value: Latin-1 decoded.
            rec.set_encoding(TextEncoding::Unicode);
        }
        if self.normalize != Normalize::None && !is_normalized(rec, self.normalize) {
            *rec = normalized(rec, self.normalize);
        }
        note
    }
}

fn form_check(s: &str, form: Normalize) -> bool {
    let quick = match form {
        Normalize::Nfc => is_nfc_quick(s.chars()),
        Normalize::Nfd => is_nfd_quick(s.chars()),
        Normalize::None => IsNormalized::Yes,
    };
    quick == IsNormalized::Yes
}

fn is_normalized(rec: &Record, form: Normalize) -> bool {
    rec.fields().all(|f| match f.data() {
        Some(data) => data.is_ascii() || form_check(data, form),
        None => f
            .subfields()
            .all(|sf| sf.value.is_ascii() || form_check(sf.value, form)),
    })
}

fn apply_form(s: &str, form: Normalize) -> String {
    match form {
        Normalize::Nfc => s.nfc().collect(),
        Normalize::Nfd => s.nfd().collect(),
        Normalize::None => s.to_string(),
    }
}

fn normalized(rec: &Record, form: Normalize) -> Record {
    let mut out = Record::with_leader(*rec.leader());
    out.set_encoding(rec.encoding());
    for f in rec.fields() {
        match f.data() {
            Some(data) => out.push_control(f.tag(), &apply_form(data, form)),
            None => {
                let [i1, i2] = f.indicators();
                out.start_data_field(f.tag(), i1, i2);
                for sf in f.subfields() {
                    out.push_subfield(sf.code, &apply_form(sf.value, form));
                }
            }
        }
    }
    out
}

/// The first field holding U+FFFD, the mark permissive reading leaves where text was not
/// valid UTF-8.
fn field_with_replacement(rec: &Record) -> Option<String> {
    const MARK: char = char::REPLACEMENT_CHARACTER;
    rec.fields().find_map(|f| {
        let hit = match f.data() {
            Some(data) => data.contains(MARK),
            None => f.subfields().any(|sf| sf.value.contains(MARK)),
        };
        hit.then(|| f.tag().to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use fastmarc::{Field, Subfield, Tag};

    #[test]
    fn normalises_only_what_needs_it() {
        let mut rec = Record::new();
        rec.push(&Field::data(
            Tag::new("245").unwrap(),
            '0',
            '0',
            vec![Subfield::new('a', "Cafe\u{301}")],
        ));
        let prep = Prepare {
            normalize: Normalize::Nfc,
            ..Prepare::default()
        };
        prep.apply(&mut rec);
        assert_eq!(rec.get("245").unwrap().subfield('a'), Some("Café"));
        let prep = Prepare {
            normalize: Normalize::Nfd,
            ..Prepare::default()
        };
        prep.apply(&mut rec);
        assert_eq!(rec.get("245").unwrap().subfield('a'), Some("Cafe\u{301}"));
        assert_eq!(field_with_replacement(&rec), None);
    }
}
