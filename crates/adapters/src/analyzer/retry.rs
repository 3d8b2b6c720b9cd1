//! Back-off for Textract: throttling retries and job polling. The sleeper is injected so
//! tests run the real loops without waiting.

use std::time::Duration;

use async_trait::async_trait;

/// Waits between attempts.
#[async_trait]
pub trait Sleeper: Send + Sync {
    async fn sleep(&self, duration: Duration);
}

/// The real clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioSleeper;

#[async_trait]
impl Sleeper for TokioSleeper {
    async fn sleep(&self, duration: Duration) {
        tokio::time::sleep(duration).await;
    }
}

/// Exponential back-off: `initial`, doubled each attempt, capped at `max`; `max_attempts`
/// calls in all (the first included).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub initial: Duration,
    pub max: Duration,
}

impl Default for RetryPolicy {
    /// 6 attempts over about 15 s: Textract's per-account TPS limits recover within seconds.
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 6,
            initial: Duration::from_millis(500),
            max: Duration::from_secs(8),
        }
    }
}

impl RetryPolicy {
    /// The wait before attempt `attempt + 1` (`attempt` counts from 1).
    pub fn delay(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1));
        self.initial.saturating_mul(factor).min(self.max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_and_are_capped() {
        let p = RetryPolicy {
            max_attempts: 10,
            initial: Duration::from_millis(500),
            max: Duration::from_secs(4),
        };
        let delays: Vec<u64> = (1..=6).map(|a| p.delay(a).as_millis() as u64).collect();
        assert_eq!(delays, vec![500, 1000, 2000, 4000, 4000, 4000]);
        assert_eq!(p.delay(u32::MAX), Duration::from_secs(4));
    }
}
