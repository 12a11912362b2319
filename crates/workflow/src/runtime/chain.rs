//! Chains of flows started by each other's writes, and the limit that stops them.
//!
//! A value a flow's run writes says which runs led to it (the IoT event's cause): the
//! flows of those runs, oldest first, the writer last. A device, integration, user or API
//! write has none (depth 0). An `eventListener` run started by a value of depth `d` is
//! the `d + 1`th run of its chain, and its own writes carry depth `d + 1`. A run that would
//! be deeper than `max_chain_depth` is not started; the runtime records why instead.

use weir_kernel::Id;

/// How many names a stopped run's message lists before it elides the middle.
const SHOWN: usize = 10;

/// Whether a value written at depth `depth` (by a chain of that many runs) may start
/// another run.
pub fn may_start(depth: usize, max_chain_depth: usize) -> bool {
    depth < max_chain_depth
}

/// The chain of a run started by a value of `cause`: the cause's flows, then the run's.
pub fn extended(cause: &[Id], flow: Id) -> Vec<Id> {
    let mut chain = Vec::with_capacity(cause.len() + 1);
    chain.extend_from_slice(cause);
    chain.push(flow);
    chain
}

/// Why a run was stopped, for its log: `names` are the flows of its chain, oldest first,
/// the stopped flow last.
pub fn stopped_message(names: &[String], max_chain_depth: usize) -> String {
    let shown: Vec<String> = names.iter().map(|n| format!("\"{n}\"")).collect();
    let shown = if shown.len() > SHOWN {
        let head = &shown[..SHOWN / 2 - 1];
        let tail = &shown[shown.len() - SHOWN / 2..];
        format!("{} → ... → {}", head.join(" → "), tail.join(" → "))
    } else {
        shown.join(" → ")
    };
    format!(
        "stopped: this run would be the {} in a chain of flows triggered by each other's \
         writes (limit {max_chain_depth}, workflow.max_chain_depth): {shown}",
        ordinal(names.len()),
    )
}

/// `1st`, `2nd`, `3rd`, `4th`, ... `11th`, `12th`, `13th`, ... `21st`.
fn ordinal(n: usize) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_below_the_limit_start_runs_and_those_at_it_do_not() {
        assert!(may_start(0, 1));
        assert!(!may_start(1, 1));
        assert!(may_start(7, 8));
        assert!(!may_start(8, 8));
        assert!(!may_start(9, 8));
    }

    #[test]
    fn a_run_extends_the_chain_of_what_started_it() {
        assert_eq!(extended(&[], Id(5)), [Id(5)]);
        assert_eq!(extended(&[Id(1), Id(2)], Id(1)), [Id(1), Id(2), Id(1)]);
    }

    #[test]
    fn ordinals_read_as_english() {
        let got: Vec<String> = [1, 2, 3, 4, 9, 11, 12, 13, 21, 22, 23, 101, 111]
            .into_iter()
            .map(ordinal)
            .collect();
        assert_eq!(
            got,
            [
                "1st", "2nd", "3rd", "4th", "9th", "11th", "12th", "13th", "21st", "22nd", "23rd",
                "101st", "111th"
            ]
        );
    }

    #[test]
    fn the_message_names_every_flow_of_a_short_chain() {
        let names: Vec<String> = ["Up", "Down", "Up", "Down"].map(String::from).into();
        assert_eq!(
            stopped_message(&names, 3),
            "stopped: this run would be the 4th in a chain of flows triggered by each other's \
             writes (limit 3, workflow.max_chain_depth): \"Up\" → \"Down\" → \"Up\" → \"Down\""
        );
    }

    #[test]
    fn the_message_elides_the_middle_of_a_long_chain() {
        let names: Vec<String> = (1..=21).map(|i| format!("f{i}")).collect();
        let message = stopped_message(&names, 20);
        assert!(message.contains("the 21st in a chain"), "{message}");
        assert!(
            message.ends_with(
                "\"f1\" → \"f2\" → \"f3\" → \"f4\" → ... → \
                 \"f17\" → \"f18\" → \"f19\" → \"f20\" → \"f21\""
            ),
            "{message}"
        );
    }
}
