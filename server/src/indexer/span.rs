//! How many blocks one `eth_getLogs` asks for: halves when the RPC refuses a range (too many logs,
//! a timeout), and doubles back after successes, within `[1, max]`.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    current: u64,
    max: u64,
}

impl Span {
    pub fn new(max: u64) -> Self {
        let max = max.max(1);
        Self { current: max, max }
    }

    pub fn get(self) -> u64 {
        self.current
    }

    /// After a refusal. Returns false when already at one block: shrinking cannot help then.
    pub fn shrink(&mut self) -> bool {
        let shrunk = self.current > 1;
        self.current = (self.current / 2).max(1);
        shrunk
    }

    pub fn grow(&mut self) {
        self.current = self.current.saturating_mul(2).min(self.max);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_range_halves_down_to_one_block_and_grows_back_to_the_maximum() {
        let mut span = Span::new(1000);
        let mut sizes = vec![];
        while span.shrink() {
            sizes.push(span.get());
        }
        assert_eq!(sizes, vec![500, 250, 125, 62, 31, 15, 7, 3, 1]);
        assert!(!span.shrink());
        for _ in 0..20 {
            span.grow();
        }
        assert_eq!(span.get(), 1000);
    }
}
