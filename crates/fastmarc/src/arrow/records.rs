//! Record batches in the nested schema back to records.
//!
//! Batches may come from anywhere that keeps the schema's shape (a Parquet file, pyarrow,
//! polars), and such tools pick their own string and list types, so `Utf8`, `LargeUtf8` and
//! `Utf8View` strings and `List` and `LargeList` lists are all taken.

use crate::error::{Error, ErrorKind, Result};
use crate::field::Tag;
use crate::leader::Leader;
use crate::record::Record;
use arrow_array::cast::AsArray;
use arrow_array::{Array, ArrayRef, RecordBatch, StructArray};
use arrow_schema::DataType;
use std::ops::Range;

fn bad(what: String) -> Error {
    Error::new(ErrorKind::InvalidValue(what))
}

/// A string column of any of Arrow's string types.
enum Strings<'a> {
    Utf8(&'a arrow_array::StringArray),
    Large(&'a arrow_array::LargeStringArray),
    View(&'a arrow_array::StringViewArray),
}

impl<'a> Strings<'a> {
    fn of(array: &'a ArrayRef, name: &str) -> Result<Strings<'a>> {
        Ok(match array.data_type() {
            DataType::Utf8 => Strings::Utf8(array.as_string()),
            DataType::LargeUtf8 => Strings::Large(array.as_string()),
            DataType::Utf8View => Strings::View(array.as_string_view()),
            other => return Err(bad(format!("column {name} is {other}, not a string"))),
        })
    }

    fn get(&self, i: usize) -> Option<&'a str> {
        let (valid, s) = match self {
            Strings::Utf8(a) => (a.is_valid(i), a.value(i)),
            Strings::Large(a) => (a.is_valid(i), a.value(i)),
            Strings::View(a) => (a.is_valid(i), a.value(i)),
        };
        valid.then_some(s)
    }
}

/// The offsets of a `List` or a `LargeList` column.
enum Offsets<'a> {
    Small(&'a [i32]),
    Large(&'a [i64]),
}

/// A list column of either of Arrow's list types, with its struct items.
struct Lists<'a> {
    offsets: Offsets<'a>,
    items: &'a StructArray,
}

impl<'a> Lists<'a> {
    fn of(array: &'a ArrayRef, name: &str) -> Result<Lists<'a>> {
        let (offsets, values) = match array.data_type() {
            DataType::List(_) => {
                let l = array.as_list::<i32>();
                (Offsets::Small(l.value_offsets()), l.values())
            }
            DataType::LargeList(_) => {
                let l = array.as_list::<i64>();
                (Offsets::Large(l.value_offsets()), l.values())
            }
            other => return Err(bad(format!("column {name} is {other}, not a list"))),
        };
        let items = values
            .as_struct_opt()
            .ok_or_else(|| bad(format!("the items of {name} are not structs")))?;
        Ok(Lists { offsets, items })
    }

    /// The child rows of list `i`.
    fn range(&self, i: usize) -> Range<usize> {
        match self.offsets {
            Offsets::Small(o) => o[i] as usize..o[i + 1] as usize,
            Offsets::Large(o) => o[i] as usize..o[i + 1] as usize,
        }
    }

    fn strings(&self, name: &str) -> Result<Strings<'a>> {
        let column = self
            .items
            .column_by_name(name)
            .ok_or_else(|| bad(format!("a list item has no {name}")))?;
        Strings::of(column, name)
    }

    /// The `position` column of control field items, if the batch has one (batches
    /// written before it existed have their control fields in front).
    fn positions(&self) -> Result<Option<&'a arrow_array::UInt32Array>> {
        let Some(column) = self.items.column_by_name("position") else {
            return Ok(None);
        };
        match column.as_primitive_opt::<arrow_array::types::UInt32Type>() {
            Some(p) => Ok(Some(p)),
            None => Err(bad(format!(
                "control field position is {}, not uint32",
                column.data_type()
            ))),
        }
    }

    fn lists(&self, name: &str) -> Result<Lists<'a>> {
        let column = self
            .items
            .column_by_name(name)
            .ok_or_else(|| bad(format!("a list item has no {name}")))?;
        Lists::of(column, name)
    }
}

/// One character of an indicator or subfield code column.
fn one_char(s: Option<&str>, what: &str) -> Result<char> {
    let mut chars = s.unwrap_or(" ").chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) => Ok(c),
        _ => Err(bad(format!("{what} {s:?} is not one character"))),
    }
}

/// Whether `schema` has the nested schema's record columns (so its batches can become
/// records); an error saying what is missing if not.
pub fn check_nested(schema: &arrow_schema::Schema) -> Result<()> {
    for name in ["leader", "control_fields", "data_fields"] {
        if schema.column_with_name(name).is_none() {
            return Err(bad(format!(
                "no {name} column: records can only be rebuilt from the nested schema"
            )));
        }
    }
    Ok(())
}

/// The records of a batch in the nested schema (see [`super::nested_schema`]).
pub struct BatchRecords<'a> {
    rows: usize,
    /// The number errors give the batch's first row (see [`BatchRecords::numbered_from`]).
    first_row: u64,
    leader: Strings<'a>,
    controls: Lists<'a>,
    control_tag: Strings<'a>,
    control_value: Strings<'a>,
    control_position: Option<&'a arrow_array::UInt32Array>,
    datas: Lists<'a>,
    data_tag: Strings<'a>,
    ind1: Strings<'a>,
    ind2: Strings<'a>,
    subfields: Lists<'a>,
    code: Strings<'a>,
    value: Strings<'a>,
}

impl<'a> BatchRecords<'a> {
    /// Check `batch` has the nested schema's columns (extra columns are ignored).
    pub fn new(batch: &'a RecordBatch) -> Result<BatchRecords<'a>> {
        let column = |name: &str| {
            batch.column_by_name(name).ok_or_else(|| {
                bad(format!(
                    "no {name} column: records can only be rebuilt from the nested schema"
                ))
            })
        };
        let controls = Lists::of(column("control_fields")?, "control_fields")?;
        let datas = Lists::of(column("data_fields")?, "data_fields")?;
        let subfields = datas.lists("subfields")?;
        Ok(BatchRecords {
            rows: batch.num_rows(),
            first_row: 0,
            leader: Strings::of(column("leader")?, "leader")?,
            control_tag: controls.strings("tag")?,
            control_value: controls.strings("value")?,
            control_position: controls.positions()?,
            data_tag: datas.strings("tag")?,
            ind1: datas.strings("ind1")?,
            ind2: datas.strings("ind2")?,
            code: subfields.strings("code")?,
            value: subfields.strings("value")?,
            controls,
            datas,
            subfields,
        })
    }

    /// Errors name rows counting from `first_row` for the batch's first (the batch's place
    /// in a file or stream) rather than from 0.
    pub fn numbered_from(mut self, first_row: u64) -> Self {
        self.first_row = first_row;
        self
    }

    /// Rows in the batch.
    pub fn len(&self) -> usize {
        self.rows
    }

    /// Whether the batch has no rows.
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// Rebuild row `row` into `rec` (cleared first). Errors name the row.
    pub fn record_into(&self, row: usize, rec: &mut Record) -> Result<()> {
        self.fill(row, rec).map_err(|e| {
            let at = self.first_row + row as u64;
            bad(format!("row {at}: {}", e.kind()))
        })
    }

    /// Row `row` as a record.
    pub fn record(&self, row: usize) -> Result<Record> {
        let mut rec = Record::new();
        self.record_into(row, &mut rec)?;
        Ok(rec)
    }

    fn fill(&self, row: usize, rec: &mut Record) -> Result<()> {
        rec.clear();
        let leader = self
            .leader
            .get(row)
            .ok_or_else(|| bad("null leader".into()))?;
        rec.set_leader(Leader::from_bytes(leader.as_bytes())?);
        let mut controls = self.controls.range(row).peekable();
        let mut placed = 0usize;
        for i in self.datas.range(row) {
            // Control fields whose place comes before this data field go first.
            while let Some(&c) = controls.peek() {
                if self.position(c) > placed {
                    break;
                }
                self.push_control(c, rec)?;
                controls.next();
                placed += 1;
            }
            let tag = Tag::new(self.data_tag.get(i).unwrap_or(""))?;
            let ind1 = one_char(self.ind1.get(i), "indicator")?;
            let ind2 = one_char(self.ind2.get(i), "indicator")?;
            rec.start_data_field(tag, ind1, ind2);
            for j in self.subfields.range(i) {
                let code = one_char(self.code.get(j), "subfield code")?;
                rec.push_subfield(code, self.value.get(j).unwrap_or(""));
            }
            placed += 1;
        }
        for c in controls {
            self.push_control(c, rec)?;
        }
        Ok(())
    }

    /// Where control field `i` stood among its record's fields (0, in front, without a
    /// `position` column or for a null).
    fn position(&self, i: usize) -> usize {
        self.control_position
            .filter(|p| p.is_valid(i))
            .map_or(0, |p| p.value(i) as usize)
    }

    fn push_control(&self, i: usize, rec: &mut Record) -> Result<()> {
        let tag = Tag::new(self.control_tag.get(i).unwrap_or(""))?;
        rec.push_control(tag, self.control_value.get(i).unwrap_or(""));
        Ok(())
    }

    /// Every record of the batch, in order.
    pub fn iter(&self) -> impl Iterator<Item = Result<Record>> + '_ {
        (0..self.rows).map(|row| self.record(row))
    }
}
