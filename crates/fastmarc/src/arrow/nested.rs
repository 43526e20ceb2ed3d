//! The nested schema: one row per record, every field and subfield in order.

use super::columns::{struct_of, u32_column, u64_column, ListEnds, StrCol};
use super::stream::{Layout, Rows};
use crate::record::{Record, TextEncoding};
use arrow_array::RecordBatch;
use arrow_schema::{ArrowError, DataType, Field, FieldRef, Fields, Schema, SchemaRef};
use std::sync::{Arc, OnceLock};

fn string(name: &str) -> Field {
    Field::new(name, DataType::Utf8, false)
}

fn list_of(name: &str, item: &FieldRef) -> Field {
    Field::new(name, DataType::List(item.clone()), false)
}

fn struct_item(fields: Vec<Field>) -> FieldRef {
    Arc::new(Field::new(
        "item",
        DataType::Struct(Fields::from(fields)),
        false,
    ))
}

/// The list item types, shared by every batch.
struct Items {
    control: FieldRef,
    subfield: FieldRef,
    data: FieldRef,
    schema: SchemaRef,
}

fn items() -> &'static Items {
    static ITEMS: OnceLock<Items> = OnceLock::new();
    ITEMS.get_or_init(|| {
        let control = struct_item(vec![
            string("tag"),
            string("value"),
            Field::new("position", DataType::UInt32, false),
        ]);
        let subfield = struct_item(vec![string("code"), string("value")]);
        let data = struct_item(vec![
            string("tag"),
            string("ind1"),
            string("ind2"),
            list_of("subfields", &subfield),
        ]);
        let schema = Arc::new(Schema::new(vec![
            Field::new("record_number", DataType::UInt64, false),
            Field::new("offset", DataType::UInt64, false),
            string("leader"),
            list_of("control_fields", &control),
            list_of("data_fields", &data),
        ]));
        Items {
            control,
            subfield,
            data,
            schema,
        }
    })
}

/// The nested schema (see the module documentation).
pub fn nested_schema() -> SchemaRef {
    items().schema.clone()
}

/// Builds batches in the nested schema.
#[derive(Debug, Clone, Copy, Default)]
pub struct Nested;

impl Layout for Nested {
    type Rows = NestedRows;

    /// 256 KiB, about 250 records of 1 KB: a chunk, the records parsed from it and the
    /// columns built from them (as large as the chunk again) stay in a core's cache, where
    /// with 1 MiB they no longer did, and two threads share out the last chunks of a file
    /// more evenly.
    const BATCH_BYTES: usize = 256 << 10;

    fn schema(&self) -> SchemaRef {
        nested_schema()
    }

    fn rows(&self, records: usize, bytes: usize) -> NestedRows {
        // A typical record: a field per 40 bytes of ISO 2709, a subfield per 25.
        let (fields, subfields) = (bytes / 40 + records, bytes / 25 + records);
        NestedRows {
            record_number: Vec::with_capacity(records),
            offset: Vec::with_capacity(records),
            leader: StrCol::with_capacity(records, records * 24),
            controls: ListEnds::with_capacity(records),
            control_tag: StrCol::with_capacity(records * 4, records * 12),
            control_value: StrCol::with_capacity(records * 4, bytes / 8),
            control_position: Vec::with_capacity(records * 4),
            datas: ListEnds::with_capacity(records),
            data_tag: StrCol::with_capacity(fields, fields * 3),
            ind1: StrCol::with_capacity(fields, fields),
            ind2: StrCol::with_capacity(fields, fields),
            subfields: ListEnds::with_capacity(fields),
            code: StrCol::with_capacity(subfields, subfields),
            value: StrCol::with_capacity(subfields, bytes),
            ..NestedRows::default()
        }
    }
}

/// Column buffers of the nested schema.
#[derive(Debug, Default)]
pub struct NestedRows {
    record_number: Vec<u64>,
    offset: Vec<u64>,
    leader: StrCol,
    controls: ListEnds,
    control_tag: StrCol,
    control_value: StrCol,
    /// Each control field's index among all the record's fields, so that control fields
    /// placed among data fields go back where they were.
    control_position: Vec<u32>,
    control_count: usize,
    datas: ListEnds,
    data_tag: StrCol,
    ind1: StrCol,
    ind2: StrCol,
    data_count: usize,
    subfields: ListEnds,
    code: StrCol,
    value: StrCol,
    subfield_count: usize,
}

impl Rows for NestedRows {
    fn push(&mut self, number: u64, offset: u64, rec: &Record) {
        self.record_number.push(number + 1);
        self.offset.push(offset);
        let mut leader = *rec.leader();
        // The text is Unicode now, and will be written back as UTF-8.
        if rec.encoding() == TextEncoding::Unicode {
            leader.set(9, b'a');
        }
        self.leader
            .push_ascii(leader.as_bytes(), || leader.as_str());
        for (position, field) in rec.fields().enumerate() {
            let tag = field.tag();
            if let Some(data) = field.data() {
                self.control_tag.push_ascii(tag.as_bytes(), || tag.as_str());
                self.control_value.push(data);
                // A directory holds fewer than 100,000 / 12 entries.
                self.control_position.push(position as u32);
                self.control_count += 1;
                continue;
            }
            self.data_tag.push_ascii(tag.as_bytes(), || tag.as_str());
            let [i1, i2] = field.indicators();
            self.ind1.push_char(i1);
            self.ind2.push_char(i2);
            self.data_count += 1;
            for sf in field.subfields() {
                self.code.push_char(sf.code);
                self.value.push(sf.value);
                self.subfield_count += 1;
            }
            self.subfields.close(self.subfield_count);
        }
        self.controls.close(self.control_count);
        self.datas.close(self.data_count);
    }

    fn len(&self) -> usize {
        self.record_number.len()
    }

    fn finish(self) -> Result<RecordBatch, ArrowError> {
        let it = items();
        let subfields = struct_of(
            &it.subfield,
            vec![self.code.finish()?, self.value.finish()?],
        )?;
        let data = struct_of(
            &it.data,
            vec![
                self.data_tag.finish()?,
                self.ind1.finish()?,
                self.ind2.finish()?,
                self.subfields.finish(&it.subfield, subfields)?,
            ],
        )?;
        let control = struct_of(
            &it.control,
            vec![
                self.control_tag.finish()?,
                self.control_value.finish()?,
                u32_column(self.control_position),
            ],
        )?;
        RecordBatch::try_new(
            it.schema.clone(),
            vec![
                u64_column(self.record_number),
                u64_column(self.offset),
                self.leader.finish()?,
                self.controls.finish(&it.control, control)?,
                self.datas.finish(&it.data, data)?,
            ],
        )
    }
}
