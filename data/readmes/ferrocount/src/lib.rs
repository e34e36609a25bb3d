use std::collections::HashMap;

pub trait Counter {
    fn add(&mut self, key: &str);
    fn count(&self, key: &str) -> u64;
}

#[derive(Default)]
pub struct Exact {
    counts: HashMap<String, u64>,
}

impl Counter for Exact {
    fn add(&mut self, key: &str) {
        *self.counts.entry(key.to_string()).or_insert(0) += 1;
    }

    fn count(&self, key: &str) -> u64 {
        self.counts.get(key).copied().unwrap_or(0)
    }
}
