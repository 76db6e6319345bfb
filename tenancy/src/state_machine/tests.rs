use std::path::PathBuf;

use super::*;

/// Where the generated definitions are committed for Terraform.
fn committed(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../infra/components/terraform/step-functions-onboarding")
        .join(name)
}

fn pretty(definition: &Value) -> String {
    let mut text = serde_json::to_string_pretty(definition).expect("json");
    text.push('\n');
    text
}

#[test]
fn the_committed_definitions_are_the_generated_ones() {
    for (name, definition) in [
        ("onboarding.asl.json", onboarding()),
        ("offboarding.asl.json", offboarding()),
    ] {
        let path = committed(name);
        let generated = pretty(&definition);
        if std::env::var_os("TALLY_BLESS").is_some() {
            std::fs::write(&path, &generated).expect("write the definition");
        }
        let on_disk = std::fs::read_to_string(&path)
            .unwrap_or_else(|error| panic!("{}: {error}", path.display()));
        assert!(
            on_disk == generated,
            "{} differs from tally-tenancy's state_machine.rs; rerun with TALLY_BLESS=1",
            path.display()
        );
    }
}

fn next_of<'a>(states: &'a Value, name: &str) -> &'a str {
    states[name]["Next"]
        .as_str()
        .unwrap_or_else(|| panic!("{name} has no Next"))
}

fn action_and_step(state: &Value) -> (String, Option<String>) {
    let payload = &state["Parameters"]["Payload"];
    (
        payload["action"].as_str().expect("action").to_owned(),
        payload["step"].as_str().map(str::to_owned),
    )
}

#[test]
fn the_happy_path_runs_the_onboarding_steps_in_their_order() {
    let definition = onboarding();
    let states = &definition["States"];
    let mut name = definition["StartAt"].as_str().expect("start").to_owned();
    let mut applied = Vec::new();
    let mut actions = Vec::new();
    while states[&name]["Type"] == "Task" {
        let (action, step) = action_and_step(&states[&name]);
        if let Some(step) = step {
            applied.push(step);
        }
        actions.push(action);
        name = next_of(states, &name).to_owned();
    }
    let expected: Vec<&str> = Step::ONBOARDING.iter().map(|step| step.as_str()).collect();
    assert_eq!(applied, expected);
    assert_eq!(actions.first().map(String::as_str), Some("begin"));
    assert_eq!(actions.last().map(String::as_str), Some("finish"));
    assert_eq!(states[&name]["Type"], "Succeed");
}

#[test]
fn a_failing_step_undoes_what_the_in_process_workflow_undoes_then_marks_the_tenant() {
    let definition = onboarding();
    let states = &definition["States"];
    for (index, step) in Step::ONBOARDING.iter().enumerate() {
        let catch = &states[step.state_name()]["Catch"][0];
        assert_eq!(catch["ErrorEquals"], json!(["States.ALL"]));
        let mut name = catch["Next"].as_str().expect("catch target").to_owned();
        let mut undone = Vec::new();
        while name != MARK_FAILED_STATE {
            let (action, undo) = action_and_step(&states[&name]);
            assert_eq!(action, "undo");
            undone.push(undo.expect("undo names its step"));
            name = next_of(states, &name).to_owned();
        }
        let expected: Vec<&str> = Step::compensation(&Step::ONBOARDING[..=index])
            .iter()
            .map(|step| step.as_str())
            .collect();
        assert_eq!(undone, expected, "after {step} fails");
        assert_eq!(next_of(states, MARK_FAILED_STATE), "Failed");
    }
}

#[test]
fn every_task_retries_transient_failures_by_the_onboarding_policy() {
    for definition in [onboarding(), offboarding()] {
        let states = definition["States"].as_object().expect("states");
        for (name, state) in states {
            if state["Type"] != "Task" {
                continue;
            }
            let retry = &state["Retry"][0];
            let policy = RetryPolicy::ONBOARDING;
            assert_eq!(retry["MaxAttempts"], policy.max_attempts - 1, "{name}");
            assert_eq!(
                retry["IntervalSeconds"], policy.first_interval_secs,
                "{name}"
            );
            assert_eq!(retry["BackoffRate"], policy.backoff_rate, "{name}");
            assert_eq!(retry["ErrorEquals"][0], TRANSIENT_ERROR, "{name}");
            assert_eq!(state["Parameters"]["FunctionName"], FUNCTION_ARN_VARIABLE);
        }
    }
}

#[test]
fn offboarding_undoes_every_step_in_reverse_then_concludes() {
    let definition = offboarding();
    let states = &definition["States"];
    let mut name = next_of(states, BEGIN_STATE).to_owned();
    let mut undone = Vec::new();
    while name != "Conclude" {
        undone.push(action_and_step(&states[&name]).1.expect("step"));
        name = next_of(states, &name).to_owned();
    }
    let expected: Vec<&str> = Step::compensation(&Step::ONBOARDING)
        .iter()
        .map(|step| step.as_str())
        .collect();
    assert_eq!(undone, expected);
    assert_eq!(next_of(states, "Conclude"), FINISH_STATE);
}
