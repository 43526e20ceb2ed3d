//! Projections: one column per MARCspec, filled straight from each parsed record without
//! building the nested row.

use super::columns::{OptStrCol, StrListCol};
use super::stream::{Layout, Rows};
use crate::error::{Error, ErrorKind, Result};
use crate::record::{Record, TextEncoding};
use crate::spec::Spec;
use crate::TagSet;
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{ArrowError, DataType, Field, FieldRef, Schema, SchemaRef};
use std::sync::Arc;

/// Columns named by the caller, each the values of a MARCspec: a nullable `string` when
/// the spec matches at most once per record ([`Spec::is_single`]: `LDR/06`, `245[0]$a[0]`),
/// else a `list<string>` of every match in record order (`650$a`, `001`).
#[derive(Debug, Clone)]
pub struct Projection {
    specs: Arc<[Spec]>,
    /// The tags of the fields the specs read: the only fields parsed.
    tags: TagSet,
    /// Whether a spec reads the leader (which then says how the record was decoded).
    reads_leader: bool,
    item: FieldRef,
    schema: SchemaRef,
}

impl Projection {
    /// A projection of `(column name, MARCspec)` pairs, in column order. A spec that does
    /// not parse is an error naming the column and the offending character; no columns at
    /// all is an error too (a table of rows without columns cannot be written to Parquet).
    pub fn new<N: AsRef<str>, S: AsRef<str>>(columns: &[(N, S)]) -> Result<Projection> {
        if columns.is_empty() {
            let what = "a projection needs at least one column".to_string();
            return Err(Error::new(ErrorKind::InvalidValue(what)));
        }
        let item: FieldRef = Arc::new(Field::new("item", DataType::Utf8, false));
        let mut specs = Vec::with_capacity(columns.len());
        let mut fields = Vec::with_capacity(columns.len());
        for (i, (name, text)) in columns.iter().enumerate() {
            let (name, text) = (name.as_ref(), text.as_ref());
            if columns[..i].iter().any(|(n, _)| n.as_ref() == name) {
                let what = format!("column {name:?} is named twice");
                return Err(Error::new(ErrorKind::InvalidValue(what)));
            }
            let spec = Spec::parse(text).map_err(|e| {
                Error::new(ErrorKind::InvalidValue(format!("column {name:?}: {e}")))
            })?;
            fields.push(if spec.is_single() {
                Field::new(name, DataType::Utf8, true)
            } else {
                Field::new(name, DataType::List(item.clone()), false)
            });
            specs.push(spec);
        }
        let mut tags = TagSet::new();
        specs.iter().for_each(|s| s.add_tags(&mut tags));
        Ok(Projection {
            tags,
            reads_leader: specs.iter().any(Spec::reads_leader),
            specs: specs.into(),
            item,
            schema: Arc::new(Schema::new(fields)),
        })
    }
}

impl Layout for Projection {
    type Rows = ProjectedRows;

    /// 1 MiB, about 1,000 records of 1 KB: the columns built are a small part of the
    /// input, so a larger chunk still fits a core's cache, and a quarter as many batches
    /// cost the pipeline, and the tools that take the table, less per record (polars
    /// counts values over fewer chunks).
    const BATCH_BYTES: usize = 1 << 20;

    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn only_tags(&self) -> Option<TagSet> {
        (!self.tags.is_full()).then_some(self.tags)
    }

    fn rows(&self, _records: usize, _bytes: usize) -> ProjectedRows {
        let columns = self
            .specs
            .iter()
            .map(|s| {
                if s.is_single() {
                    Column::Single(OptStrCol::default())
                } else {
                    Column::Many(StrListCol::default())
                }
            })
            .collect();
        ProjectedRows {
            layout: self.clone(),
            columns,
            rows: 0,
            decoded: Record::new(),
        }
    }
}

#[derive(Debug)]
enum Column {
    Single(OptStrCol),
    Many(StrListCol),
}

/// Column buffers of a [`Projection`].
#[derive(Debug)]
pub struct ProjectedRows {
    layout: Projection,
    columns: Vec<Column>,
    rows: usize,
    /// A record decoded from MARC-8, with leader/09 saying `a` as in the nested schema.
    decoded: Record,
}

impl Rows for ProjectedRows {
    fn push(&mut self, _number: u64, _offset: u64, rec: &Record) {
        // The record's text is Unicode: a spec of the leader sees leader/09 say so, as the
        // nested schema's leader does (records read from MARC-8; a copy of the record, so
        // only when a spec reads the leader).
        let rec = if self.layout.reads_leader
            && rec.encoding() == TextEncoding::Unicode
            && rec.leader().as_bytes()[9] != b'a'
        {
            self.decoded.clone_from(rec);
            self.decoded.leader_mut().set(9, b'a');
            &self.decoded
        } else {
            rec
        };
        for (spec, column) in self.layout.specs.iter().zip(&mut self.columns) {
            match column {
                Column::Single(col) => {
                    let mut found = false;
                    spec.for_each(rec, |v| {
                        if !found {
                            col.push(Some(v));
                            found = true;
                        }
                    });
                    if !found {
                        col.push(None);
                    }
                }
                Column::Many(col) => {
                    spec.for_each(rec, |v| col.push_value(v));
                    col.close();
                }
            }
        }
        self.rows += 1;
    }

    fn len(&self) -> usize {
        self.rows
    }

    fn finish(self) -> std::result::Result<RecordBatch, ArrowError> {
        let item = &self.layout.item;
        let arrays = self
            .columns
            .into_iter()
            .map(|c| match c {
                Column::Single(c) => c.finish(),
                Column::Many(c) => c.finish(item),
            })
            .collect::<std::result::Result<Vec<ArrayRef>, _>>()?;
        let options = arrow_array::RecordBatchOptions::new().with_row_count(Some(self.rows));
        RecordBatch::try_new_with_options(self.layout.schema.clone(), arrays, &options)
    }
}
