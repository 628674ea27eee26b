//! Read and list options, and the query engines answer.

/// go-micro's read options: is the key exact, a prefix or a suffix, and the page.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReadOptions {
    /// The key is a prefix: read every record whose key starts with it.
    pub prefix: bool,
    /// The key is a suffix: read every record whose key ends with it.
    pub suffix: bool,
    /// At most this many records.
    pub limit: Option<usize>,
    /// Skip this many records first.
    pub offset: usize,
}

impl ReadOptions {
    /// Read by prefix.
    #[must_use]
    pub fn prefix(mut self) -> ReadOptions {
        self.prefix = true;
        self
    }

    /// Read by suffix.
    #[must_use]
    pub fn suffix(mut self) -> ReadOptions {
        self.suffix = true;
        self
    }

    /// At most `limit` records.
    #[must_use]
    pub fn limit(mut self, limit: usize) -> ReadOptions {
        self.limit = Some(limit);
        self
    }

    /// Skip `offset` records.
    #[must_use]
    pub fn offset(mut self, offset: usize) -> ReadOptions {
        self.offset = offset;
        self
    }

    pub(crate) fn query(&self, key: &str) -> Query {
        let matching = self.prefix || self.suffix;
        Query {
            exact: (!matching).then(|| key.to_owned()),
            prefix: self.prefix.then(|| key.to_owned()),
            suffix: self.suffix.then(|| key.to_owned()),
            limit: self.limit,
            offset: self.offset,
        }
    }
}

/// go-micro's list options.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListOptions {
    /// Only keys that start with this.
    pub prefix: Option<String>,
    /// Only keys that end with this.
    pub suffix: Option<String>,
    /// At most this many keys.
    pub limit: Option<usize>,
    /// Skip this many keys first.
    pub offset: usize,
}

impl ListOptions {
    /// Keys that start with `prefix`.
    #[must_use]
    pub fn prefix(mut self, prefix: impl Into<String>) -> ListOptions {
        self.prefix = Some(prefix.into());
        self
    }

    /// Keys that end with `suffix`.
    #[must_use]
    pub fn suffix(mut self, suffix: impl Into<String>) -> ListOptions {
        self.suffix = Some(suffix.into());
        self
    }

    /// At most `limit` keys.
    #[must_use]
    pub fn limit(mut self, limit: usize) -> ListOptions {
        self.limit = Some(limit);
        self
    }

    /// Skip `offset` keys.
    #[must_use]
    pub fn offset(mut self, offset: usize) -> ListOptions {
        self.offset = offset;
        self
    }

    pub(crate) fn query(&self) -> Query {
        Query {
            exact: None,
            prefix: self.prefix.clone().filter(|p| !p.is_empty()),
            suffix: self.suffix.clone().filter(|s| !s.is_empty()),
            limit: self.limit,
            offset: self.offset,
        }
    }
}

/// What an engine is asked for: one key, or the keys with a prefix and/or suffix, paged.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Query {
    /// Exactly this key.
    pub exact: Option<String>,
    /// Keys that start with this.
    pub prefix: Option<String>,
    /// Keys that end with this.
    pub suffix: Option<String>,
    /// At most this many.
    pub limit: Option<usize>,
    /// Skip this many first.
    pub offset: usize,
}

impl Query {
    /// Whether `key` is one of the answers (before paging).
    pub fn matches(&self, key: &str) -> bool {
        if let Some(exact) = &self.exact {
            return key == exact;
        }
        self.prefix.as_deref().is_none_or(|p| key.starts_with(p))
            && self.suffix.as_deref().is_none_or(|s| key.ends_with(s))
    }

    /// The page of `items` (already filtered and in key order) this query asks for.
    pub fn page<T>(&self, items: impl IntoIterator<Item = T>) -> Vec<T> {
        items
            .into_iter()
            .skip(self.offset)
            .take(self.limit.unwrap_or(usize::MAX))
            .collect()
    }
}
