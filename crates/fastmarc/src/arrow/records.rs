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
use arrow_array::{Array, ArrayRef, GenericStringArray, OffsetSizeTrait, RecordBatch, StructArray};
use arrow_schema::DataType;
use std::ops::Range;

fn bad(what: String) -> Error {
    Error::new(ErrorKind::InvalidValue(what))
}

/// Integer positions as `uint32`; one that does not fit (negative) is an error.
fn narrowed<T>(a: &arrow_array::PrimitiveArray<T>) -> Result<arrow_array::UInt32Array>
where
    T: arrow_array::ArrowPrimitiveType,
    T::Native: TryInto<u32> + std::fmt::Display,
{
    a.iter()
        .map(|v| {
            v.map(|x| {
                x.try_into()
                    .map_err(|_| bad(format!("control field position {x} is out of range")))
            })
            .transpose()
        })
        .collect()
}

/// What went wrong, without the "invalid value" its kind says, for an error that wraps it
/// with where it happened.
pub fn detail(e: &Error) -> String {
    match e.kind() {
        ErrorKind::InvalidValue(what) => what.clone(),
        other => other.to_string(),
    }
}

/// A string column of any of Arrow's string types, named for errors. Its offsets are in
/// order and in bounds: arrow-rs checks them when it builds an array, and
/// [`check_foreign`] when an array comes from outside.
struct Strings<'a> {
    name: &'static str,
    array: StringArrays<'a>,
}

enum StringArrays<'a> {
    Utf8(&'a arrow_array::StringArray),
    Large(&'a arrow_array::LargeStringArray),
    View(&'a arrow_array::StringViewArray),
}

impl<'a> Strings<'a> {
    fn of(array: &'a ArrayRef, name: &'static str) -> Result<Strings<'a>> {
        let array = match array.data_type() {
            DataType::Utf8 => StringArrays::Utf8(array.as_string()),
            DataType::LargeUtf8 => StringArrays::Large(array.as_string()),
            DataType::Utf8View => StringArrays::View(array.as_string_view()),
            other => return Err(bad(format!("column {name} is {other}, not a string"))),
        };
        Ok(Strings { name, array })
    }

    /// Value `i`'s bytes (`None` for a null), its text unchecked: for tags, indicators and
    /// codes, which are checked as bytes where they are used.
    #[inline(always)]
    fn bytes(&self, i: usize) -> Option<&'a [u8]> {
        match self.array {
            StringArrays::Utf8(a) => a.is_valid(i).then(|| raw(a, i)),
            StringArrays::Large(a) => a.is_valid(i).then(|| raw(a, i)),
            StringArrays::View(a) => a.is_valid(i).then(|| a.value(i).as_bytes()),
        }
    }

    /// Value `i` (`None` for a null), its UTF-8 checked: an array from outside comes
    /// unchecked.
    fn get(&self, i: usize) -> Result<Option<&'a str>> {
        match self.bytes(i) {
            None => Ok(None),
            Some(b) => simdutf8::basic::from_utf8(b)
                .map(Some)
                .map_err(|_| bad(format!("column {}: a value is not UTF-8", self.name))),
        }
    }
}

/// Value `i`'s bytes in a string array.
#[inline(always)]
fn raw<O: OffsetSizeTrait>(a: &GenericStringArray<O>, i: usize) -> &[u8] {
    let o = a.value_offsets();
    &a.value_data()[o[i].as_usize()..o[i + 1].as_usize()]
}

/// A string column without nulls and with its values in one buffer (`Utf8`, `LargeUtf8`):
/// the values of consecutive rows lie back to back, so a record's values are copied in one
/// go and each one's span is found from the offsets.
struct Packed<'a> {
    name: &'static str,
    offsets: Offsets<'a>,
    bytes: &'a [u8],
}

impl<'a> Packed<'a> {
    fn of(strings: &Strings<'a>) -> Option<Packed<'a>> {
        let (offsets, bytes) = match strings.array {
            StringArrays::Utf8(a) if a.null_count() == 0 => {
                (Offsets::Small(a.value_offsets()), a.value_data())
            }
            StringArrays::Large(a) if a.null_count() == 0 => {
                (Offsets::Large(a.value_offsets()), a.value_data())
            }
            _ => return None,
        };
        Some(Packed {
            name: strings.name,
            offsets,
            bytes,
        })
    }

    /// Where row `i`'s value starts in the buffer (and row `i - 1`'s ends).
    #[inline(always)]
    fn at(&self, i: usize) -> usize {
        self.offsets.at(i)
    }

    /// The values of `rows`, back to back, their UTF-8 checked here, as they are copied (an
    /// array from outside comes unchecked): valid as a whole, and cut only where a
    /// character starts.
    fn joined(&self, rows: Range<usize>) -> Result<&'a str> {
        let (start, end) = (self.at(rows.start), self.at(rows.end));
        let text = simdutf8::basic::from_utf8(&self.bytes[start..end]).ok();
        // Valid text starts and ends on a character; each value in it must too (a byte
        // that starts one is not 0b10xxxxxx).
        let cut_well = || {
            (rows.start + 1..rows.end).all(|i| {
                let at = self.at(i);
                at == end || (self.bytes[at] as i8) >= -0x40
            })
        };
        text.filter(|_| cut_well())
            .ok_or_else(|| bad(format!("column {}: a value is not UTF-8", self.name)))
    }

    /// Row `i`'s value when it is one ASCII character, the common case of a code.
    #[inline(always)]
    fn ascii_char(&self, i: usize) -> Option<char> {
        match &self.bytes[self.at(i)..self.at(i + 1)] {
            &[b] if b.is_ascii() => Some(b as char),
            _ => None,
        }
    }
}

/// The offsets of a list or string column, either width.
enum Offsets<'a> {
    Small(&'a [i32]),
    Large(&'a [i64]),
}

impl Offsets<'_> {
    fn at(&self, i: usize) -> usize {
        match self {
            Offsets::Small(o) => o[i] as usize,
            Offsets::Large(o) => o[i] as usize,
        }
    }
}

/// A list column of either of Arrow's list types, with its struct items (offsets in order
/// and in bounds, as for [`Strings`]).
struct Lists<'a> {
    offsets: Offsets<'a>,
    items: &'a StructArray,
}

impl<'a> Lists<'a> {
    fn of(array: &'a ArrayRef, name: &'static str) -> Result<Lists<'a>> {
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
        self.offsets.at(i)..self.offsets.at(i + 1)
    }

    /// The child rows of the lists `lists`.
    fn span(&self, lists: Range<usize>) -> Range<usize> {
        self.offsets.at(lists.start)..self.offsets.at(lists.end)
    }

    fn strings(&self, name: &'static str) -> Result<Strings<'a>> {
        let column = self
            .items
            .column_by_name(name)
            .ok_or_else(|| bad(format!("a list item has no {name}")))?;
        Strings::of(column, name)
    }

    /// The `position` column of control field items, if the batch has one (batches
    /// written before it existed have their control fields in front). Any integer type is
    /// taken, as a tool that widened it (pandas, an SQL cast to BIGINT) hands it back.
    fn positions(&self) -> Result<Option<arrow_array::UInt32Array>> {
        use arrow_array::types::*;
        let Some(column) = self.items.column_by_name("position") else {
            return Ok(None);
        };
        let c = column.as_ref();
        match column.data_type() {
            DataType::UInt32 => Ok(c.as_primitive::<UInt32Type>().clone()),
            DataType::UInt8 => narrowed(c.as_primitive::<UInt8Type>()),
            DataType::UInt16 => narrowed(c.as_primitive::<UInt16Type>()),
            DataType::UInt64 => narrowed(c.as_primitive::<UInt64Type>()),
            DataType::Int8 => narrowed(c.as_primitive::<Int8Type>()),
            DataType::Int16 => narrowed(c.as_primitive::<Int16Type>()),
            DataType::Int32 => narrowed(c.as_primitive::<Int32Type>()),
            DataType::Int64 => narrowed(c.as_primitive::<Int64Type>()),
            other => Err(bad(format!(
                "control field position is {other}, not an integer"
            ))),
        }
        .map(Some)
    }

    fn lists(&self, name: &'static str) -> Result<Lists<'a>> {
        let column = self
            .items
            .column_by_name(name)
            .ok_or_else(|| bad(format!("a list item has no {name}")))?;
        Lists::of(column, name)
    }
}

/// One character of an indicator or subfield code column (a null is a blank).
#[inline(always)]
fn one_char(b: Option<&[u8]>, what: &str) -> Result<char> {
    let b = b.unwrap_or(b" ");
    if let &[c] = b {
        if c.is_ascii() {
            return Ok(c as char);
        }
    }
    let mut chars = std::str::from_utf8(b).unwrap_or("").chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) => Ok(c),
        _ => Err(bad(format!(
            "{what} {:?} is not one character",
            String::from_utf8_lossy(b)
        ))),
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

/// Check a batch from outside before its records are rebuilt: every array's buffers large
/// enough for its length (arrow-rs's cheap validation), the offsets of every list and
/// string array in order and in bounds, and string views in full. Arrays handed over
/// through Arrow's C data interface are taken as they are (arrow-rs checks nothing on
/// import); the UTF-8 of plain and large strings is checked as records are rebuilt, where
/// it costs a fraction of a pass of its own. Batches this crate builds or decodes from
/// Parquet need no check.
pub fn check_foreign(batch: &RecordBatch) -> Result<()> {
    for (column, field) in batch.columns().iter().zip(batch.schema().fields()) {
        column
            .to_data()
            .validate()
            .map_err(|e| e.to_string())
            .and_then(|()| check_array(column.as_ref()))
            .map_err(|e| bad(format!("column {}: {e}", field.name())))?;
    }
    Ok(())
}

/// [`check_foreign`] of `array` and its children.
fn check_array(array: &dyn Array) -> std::result::Result<(), String> {
    match array.data_type() {
        DataType::Utf8 => {
            let a = array.as_string::<i32>();
            check_offsets(a.value_offsets(), a.value_data().len())
        }
        DataType::LargeUtf8 => {
            let a = array.as_string::<i64>();
            check_offsets(a.value_offsets(), a.value_data().len())
        }
        DataType::List(_) => {
            let a = array.as_list::<i32>();
            check_offsets(a.value_offsets(), a.values().len())?;
            check_array(a.values().as_ref())
        }
        DataType::LargeList(_) => {
            let a = array.as_list::<i64>();
            check_offsets(a.value_offsets(), a.values().len())?;
            check_array(a.values().as_ref())
        }
        DataType::Struct(_) => array
            .as_struct()
            .columns()
            .iter()
            .try_for_each(|c| check_array(c.as_ref())),
        DataType::Utf8View => array.to_data().validate_full().map_err(|e| e.to_string()),
        _ => Ok(()),
    }
}

/// Offsets that start at 0 or more, never fall, and end within `len`. (A fold rather than
/// a loop that stops early: it runs over whole vectors of offsets.)
fn check_offsets<O: OffsetSizeTrait>(offsets: &[O], len: usize) -> std::result::Result<(), String> {
    let (Some(&first), Some(&last)) = (offsets.first(), offsets.last()) else {
        return Ok(());
    };
    let rising = offsets.windows(2).fold(true, |ok, w| ok & (w[0] <= w[1]));
    if first < O::zero() || !rising {
        return Err("offsets are negative or fall".to_string());
    }
    if last.as_usize() > len {
        return Err(format!(
            "offset {} is past the end ({len})",
            last.as_usize()
        ));
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
    control_position: Option<arrow_array::UInt32Array>,
    datas: Lists<'a>,
    data_tag: Strings<'a>,
    ind1: Strings<'a>,
    ind2: Strings<'a>,
    subfields: Lists<'a>,
    code: Strings<'a>,
    value: Strings<'a>,
    /// The columns above that can be read as [`Packed`].
    control_value_packed: Option<Packed<'a>>,
    code_packed: Option<Packed<'a>>,
    value_packed: Option<Packed<'a>>,
}

/// Where one record's values of a string column go in the record's text.
enum Placed<'b, 'a> {
    /// Copied in one go to `at`: value `i` lies at `at + packed.at(i) - from`.
    Joined {
        packed: &'b Packed<'a>,
        from: usize,
        at: usize,
    },
    /// Copied one at a time, when asked for.
    OneByOne(&'b Strings<'a>),
}

impl<'b, 'a> Placed<'b, 'a> {
    /// The values of `rows` of a column, for `rec`: copied at once if they can be.
    fn new(
        strings: &'b Strings<'a>,
        packed: &'b Option<Packed<'a>>,
        rows: Range<usize>,
        rec: &mut Record,
    ) -> Result<Self> {
        Ok(match packed {
            Some(packed) => Placed::Joined {
                packed,
                from: packed.at(rows.start),
                at: rec.append_text(packed.joined(rows)?),
            },
            None => Placed::OneByOne(strings),
        })
    }

    /// Where value `i` lies in `rec`'s text (a null is empty).
    #[inline(always)]
    fn span(&self, i: usize, rec: &mut Record) -> Result<(usize, usize)> {
        Ok(match *self {
            Placed::Joined { packed, from, at } => {
                (at + packed.at(i) - from, at + packed.at(i + 1) - from)
            }
            Placed::OneByOne(strings) => {
                let value = strings.get(i)?.unwrap_or("");
                let at = rec.append_text(value);
                (at, at + value.len())
            }
        })
    }
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
        let mut rows = BatchRecords {
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
            control_value_packed: None,
            code_packed: None,
            value_packed: None,
            controls,
            datas,
            subfields,
        };
        rows.control_value_packed = Packed::of(&rows.control_value);
        rows.code_packed = Packed::of(&rows.code);
        rows.value_packed = Packed::of(&rows.value);
        Ok(rows)
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
            bad(format!("row {at}: {}", detail(&e)))
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
            .bytes(row)
            .ok_or_else(|| bad("null leader".into()))?;
        rec.set_leader(Leader::from_bytes(leader)?);
        let controls = self.controls.range(row);
        let datas = self.datas.range(row);
        let control_text = Placed::new(
            &self.control_value,
            &self.control_value_packed,
            controls.clone(),
            rec,
        )?;
        let subfield_text = Placed::new(
            &self.value,
            &self.value_packed,
            self.subfields.span(datas.clone()),
            rec,
        )?;
        // The spans below are 32-bit, as a parsed record's are.
        let fits = |rec: &Record| match u32::try_from(rec.text.len()) {
            Ok(_) => Ok(()),
            Err(_) => Err(bad("a record of more than 4 GiB of text".into())),
        };
        fits(rec)?;
        let mut controls = controls.peekable();
        let mut placed = 0usize;
        for i in datas {
            // Control fields whose place comes before this data field go first.
            while let Some(&c) = controls.peek() {
                if self.position(c) > placed {
                    break;
                }
                self.push_control(c, &control_text, rec)?;
                controls.next();
                placed += 1;
            }
            let tag = Tag::from_ascii(self.data_tag.bytes(i).unwrap_or(b""))?;
            let ind1 = one_char(self.ind1.bytes(i), "indicator")?;
            let ind2 = one_char(self.ind2.bytes(i), "indicator")?;
            let first = rec.subfields.len();
            for j in self.subfields.range(i) {
                let code = match self.code_packed.as_ref().and_then(|p| p.ascii_char(j)) {
                    Some(c) => c,
                    None => one_char(self.code.bytes(j), "subfield code")?,
                };
                let (start, end) = subfield_text.span(j, rec)?;
                rec.add_subfield_span(code, start, end);
            }
            rec.add_data_field(tag, [ind1, ind2], first, None);
            placed += 1;
        }
        for c in controls {
            self.push_control(c, &control_text, rec)?;
        }
        // Values copied one at a time may have gone past.
        fits(rec)?;
        Ok(())
    }

    /// Where control field `i` stood among its record's fields (0, in front, without a
    /// `position` column or for a null).
    fn position(&self, i: usize) -> usize {
        self.control_position
            .as_ref()
            .filter(|p| p.is_valid(i))
            .map_or(0, |p| p.value(i) as usize)
    }

    fn push_control(&self, i: usize, text: &Placed<'_, '_>, rec: &mut Record) -> Result<()> {
        let tag = Tag::from_ascii(self.control_tag.bytes(i).unwrap_or(b""))?;
        let (start, end) = text.span(i, rec)?;
        rec.add_control_span(tag, start, end);
        Ok(())
    }

    /// Every record of the batch, in order.
    pub fn iter(&self) -> impl Iterator<Item = Result<Record>> + '_ {
        (0..self.rows).map(|row| self.record(row))
    }
}
