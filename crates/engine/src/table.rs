//! Output tables: named, typed columns in the order a file shows them.
//!
//! The engine describes each output file as a [`Table`]; `bridgenotes-format` renders it
//! exactly as the reference's pandas writer would. The column type decides the text: `F32`
//! columns print the shortest repr of a 32-bit float, `F64` of a 64-bit one.

/// Values of one column; `None` is a missing value (an empty cell).
///
/// Numbers are held as [`Nullable`] (the value plus one bit for "present"), and a column
/// with no value at all as [`Missing`](ColumnValues::Missing): an output row of the
/// public data's size has a few hundred cells, so these tables are a large part of a run.
#[derive(Clone, Debug, PartialEq)]
pub enum ColumnValues {
    Int(Nullable<i64>),
    F32(Nullable<f32>),
    F64(Nullable<f64>),
    Bool(Vec<Option<bool>>),
    Str(Vec<Option<String>>),
    /// `rows` missing values.
    Missing(usize),
}

impl ColumnValues {
    /// Number of rows.
    pub fn len(&self) -> usize {
        match self {
            ColumnValues::Int(v) => v.len(),
            ColumnValues::F32(v) => v.len(),
            ColumnValues::F64(v) => v.len(),
            ColumnValues::Bool(v) => v.len(),
            ColumnValues::Str(v) => v.len(),
            ColumnValues::Missing(rows) => *rows,
        }
    }

    /// Whether the column has no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A column of `rows` missing values.
    pub fn missing(rows: usize) -> Self {
        ColumnValues::Missing(rows)
    }
}

/// A column of optional numbers: the values (a default where missing) and a bit per row for
/// whether it is present. 8 bytes and a bit a row for `f64`/`i64`, where `Option` takes 16.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Nullable<T> {
    values: Vec<T>,
    present: Vec<u64>,
}

impl<T: Copy + Default> Nullable<T> {
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The value of row `i` (`None`: missing).
    ///
    /// # Panics
    /// If `i` is out of range.
    #[inline]
    pub fn get(&self, i: usize) -> Option<T> {
        let value = self.values[i];
        (self.present[i / 64] >> (i % 64) & 1 == 1).then_some(value)
    }

    /// Every row's value, in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = Option<T>> + '_ {
        (0..self.len()).map(|i| self.get(i))
    }

    /// Appends a row.
    pub fn push(&mut self, value: Option<T>) {
        let i = self.values.len();
        if i.is_multiple_of(64) {
            self.present.push(0);
        }
        if value.is_some() {
            self.present[i / 64] |= 1 << (i % 64);
        }
        self.values.push(value.unwrap_or_default());
    }
}

impl<T: Copy + Default> FromIterator<Option<T>> for Nullable<T> {
    fn from_iter<I: IntoIterator<Item = Option<T>>>(values: I) -> Self {
        let values = values.into_iter();
        let mut out = Nullable {
            values: Vec::with_capacity(values.size_hint().0),
            present: Vec::with_capacity(values.size_hint().0.div_ceil(64)),
        };
        values.for_each(|v| out.push(v));
        out
    }
}

impl<T: Copy + Default> From<Vec<Option<T>>> for Nullable<T> {
    fn from(values: Vec<Option<T>>) -> Self {
        values.into_iter().collect()
    }
}

/// One named column.
#[derive(Clone, Debug, PartialEq)]
pub struct Column {
    pub name: String,
    pub values: ColumnValues,
}

/// A table: columns of equal length.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Table {
    pub columns: Vec<Column>,
}

impl Table {
    /// Number of rows (0 for a table without columns).
    pub fn rows(&self) -> usize {
        self.columns.first().map_or(0, |c| c.values.len())
    }

    /// Appends a column.
    ///
    /// # Panics
    /// If its length differs from the columns already present: that is a bug in the caller.
    pub fn push(&mut self, name: impl Into<String>, values: ColumnValues) {
        let name = name.into();
        if let Some(first) = self.columns.first() {
            assert_eq!(
                first.values.len(),
                values.len(),
                "column {name} has a different length than column {}",
                first.name
            );
        }
        self.columns.push(Column { name, values });
    }

    /// The column called `name`.
    pub fn column(&self, name: &str) -> Option<&ColumnValues> {
        self.columns
            .iter()
            .find(|c| c.name == name)
            .map(|c| &c.values)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn nullable_gives_back_what_it_was_given(values in prop::collection::vec(prop::option::of(any::<i64>()), 0..300)) {
            let column: Nullable<i64> = values.iter().copied().collect();
            prop_assert_eq!(column.len(), values.len());
            prop_assert_eq!(column.iter().collect::<Vec<_>>(), values.clone());
            // Equal contents are equal columns, however they were built.
            let mut pushed = Nullable::default();
            values.iter().for_each(|&v| pushed.push(v));
            prop_assert_eq!(pushed, column);
        }
    }

    #[test]
    fn missing_floats_are_not_nan() {
        let column: Nullable<f64> = vec![None, Some(f64::NAN), Some(-0.0)].into();
        assert_eq!(column.get(0), None);
        assert!(column.get(1).unwrap().is_nan());
        assert_eq!(column.get(2).map(f64::to_bits), Some((-0.0f64).to_bits()));
    }

    #[test]
    fn a_missing_column_has_its_rows_and_no_values() {
        let mut table = Table::default();
        table.push("id", ColumnValues::Int(vec![Some(1), None].into()));
        table.push("empty", ColumnValues::missing(2));
        assert_eq!(table.rows(), 2);
        assert_eq!(table.column("empty").map(ColumnValues::len), Some(2));
    }
}
