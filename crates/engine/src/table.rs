//! Output tables: named, typed columns in the order a file shows them.
//!
//! The engine describes each output file as a [`Table`]; `bridgenotes-format` renders it
//! exactly as the reference's pandas writer would. The column type decides the text: `F32`
//! columns print the shortest repr of a 32-bit float, `F64` of a 64-bit one.

/// Values of one column; `None` is a missing value (an empty cell).
#[derive(Clone, Debug, PartialEq)]
pub enum ColumnValues {
    Int(Vec<Option<i64>>),
    F32(Vec<Option<f32>>),
    F64(Vec<Option<f64>>),
    Bool(Vec<Option<bool>>),
    Str(Vec<Option<String>>),
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
        }
    }

    /// Whether the column has no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A column of `rows` missing values (of string type: the text is the same).
    pub fn missing(rows: usize) -> Self {
        ColumnValues::Str(vec![None; rows])
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
