//! The calculator example: a service declared as a Rust trait with `#[micro::service]`.
//!
//! The macro generates `CalculatorClient` and `CalculatorServer` next to the trait; the
//! endpoints are `Calculator.Add`, `Calculator.Divide` and `Calculator.Sum`. Messages are plain
//! serde types (JSON on the wire); deriving `schemars::JsonSchema` puts their fields in the
//! registry so `micro describe` shows them.

use micro::stream::StreamReceiver;
use micro::{Context, Error, Result};
use serde::{Deserialize, Serialize};

/// The registry name of the service.
pub const SERVICE: &str = "calculator";

/// Two operands.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Operands {
    /// The left operand.
    pub a: f64,
    /// The right operand.
    pub b: f64,
}

/// A result.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Answer {
    /// The value.
    pub result: f64,
}

/// One number of a stream.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Number {
    /// The value.
    pub value: f64,
}

/// Arithmetic as a service.
#[micro::service]
pub trait Calculator {
    /// `a + b`. Safe to retry.
    #[micro(idempotent)]
    async fn add(&self, ctx: Context, req: Operands) -> Result<Answer>;

    /// `a / b`; dividing by zero is a bad request.
    #[micro(idempotent, timeout = "5s")]
    async fn divide(&self, ctx: Context, req: Operands) -> Result<Answer>;

    /// The sum of a stream of numbers.
    async fn sum(&self, ctx: Context, numbers: StreamReceiver<Number>) -> Result<Answer>;
}

/// The calculator's handler.
#[derive(Debug, Default)]
pub struct CalculatorHandler;

impl Calculator for CalculatorHandler {
    async fn add(&self, _ctx: Context, req: Operands) -> Result<Answer> {
        Ok(Answer {
            result: req.a + req.b,
        })
    }

    async fn divide(&self, _ctx: Context, req: Operands) -> Result<Answer> {
        if req.b == 0.0 {
            return Err(Error::bad_request(SERVICE, "cannot divide by zero"));
        }
        Ok(Answer {
            result: req.a / req.b,
        })
    }

    async fn sum(&self, _ctx: Context, mut numbers: StreamReceiver<Number>) -> Result<Answer> {
        let mut result = 0.0;
        while let Some(n) = numbers.recv().await? {
            result += n.value;
        }
        Ok(Answer { result })
    }
}

/// Code written against the trait: it takes the remote client in production and any
/// implementation (such as a test double) in tests.
pub async fn average<C: Calculator>(calc: &C, values: &[f64]) -> Result<f64> {
    let (tx, rx) = micro::stream::serde_channel::<Number>(values.len().max(1));
    for value in values {
        tx.send(&Number { value: *value }).await?;
    }
    drop(tx);
    let total = calc.sum(Context::new(), rx).await?;
    let count = Operands {
        a: total.result,
        b: values.len() as f64,
    };
    Ok(calc.divide(Context::new(), count).await?.result)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A test double: no server, no network.
    struct Fixed;

    impl Calculator for Fixed {
        async fn add(&self, _ctx: Context, _req: Operands) -> Result<Answer> {
            Ok(Answer { result: 0.0 })
        }

        async fn divide(&self, _ctx: Context, req: Operands) -> Result<Answer> {
            CalculatorHandler.divide(Context::new(), req).await
        }

        async fn sum(&self, _ctx: Context, _numbers: StreamReceiver<Number>) -> Result<Answer> {
            Ok(Answer { result: 12.0 })
        }
    }

    #[tokio::test]
    async fn average_with_a_test_double_and_the_real_handler() {
        assert_eq!(average(&Fixed, &[1.0, 2.0, 3.0]).await.unwrap(), 4.0);
        assert_eq!(
            average(&CalculatorHandler, &[1.0, 2.0, 3.0]).await.unwrap(),
            2.0
        );
        let err = average(&CalculatorHandler, &[]).await.unwrap_err();
        assert_eq!(err.code(), 400);
    }
}
