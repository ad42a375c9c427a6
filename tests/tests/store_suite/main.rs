//! The store test-suite, run against every backend: SQLite and PostgreSQL.
//!
//! Each test is written once, in the file for its part of the store (`people`, `turns`,
//! `delivery`, `sharing`), and expanded for each backend by the test kit's `for_each_backend!` (one macro for every suite).
//! Without a PostgreSQL server the PostgreSQL half prints SKIPPED and passes, unless
//! `CAREBOT_REQUIRE_POSTGRES=1` (as in `.ci/run`), when it fails.

use carebot_tests::app::{NowMs, TestApp};

carebot_tests::for_each_backend!(
    a_profile_has_active_goals_and_the_keyworker,
    goals_are_the_residents_own_and_each_change_is_kept,
    a_care_plan_is_versioned_and_each_answer_is_kept,
    a_revoked_account_becomes_unknown,
    a_delivery_channel_is_remembered_for_a_linked_account_only,
    a_turn_stores_answer_state_and_reply_together,
    a_checkin_the_resident_asked_for_counts_for_the_day,
    a_replayed_inbound_event_is_processed_once,
    delivery_is_in_order_per_recipient_across_retries,
    a_message_whose_deliverer_died_is_claimed_again_after_its_lease,
    a_claim_left_by_a_stopped_run_is_retried_at_start_on_a_single_instance,
    giving_back_claims_leaves_backoffs_and_other_addresses_alone,
    a_message_that_cannot_be_delivered_is_dead_lettered,
    the_status_counts_what_an_operator_needs,
    alerts_reach_only_the_residents_own_keyworkers,
    an_acknowledged_alert_tells_the_resident_who_saw_it_once,
    a_request_is_closed_with_staff_words_and_comes_back_once_when_overdue,
    staff_see_only_their_own_residents_open_requests_and_reviews,
    a_staff_summary_reaches_only_her_own_staff_and_is_audited,
    each_staff_list_read_is_audited_per_resident,
    messages_pass_between_a_resident_and_her_family_only,
    a_person_marked_erased_is_never_reached_even_with_rows_left_behind,
    concurrent_turns_for_one_person_are_serialised,
    a_turn_that_fails_beside_others_is_not_stored_and_theirs_are,
    a_restarted_carebot_resumes_the_conversation,
    a_conversation_stays_on_its_flow_version_when_the_file_changes,
    a_link_code_links_one_account_once_and_expires,
    the_audit_chain_shows_a_changed_row,
    two_instances_ticking_at_once_start_each_checkin_once,
    consent_is_stored_with_its_wording_time_and_channel_and_audited,
    withdrawing_consent_stops_an_update_already_queued,
    ask_me_later_is_asked_again_once_after_its_interval,
    a_delivered_family_update_is_an_audited_disclosure,
    a_weekly_update_carries_a_mood_chart_only_when_mood_is_shared,
    an_export_holds_every_kind_of_record_on_every_backend,
    profiles_loaded_in_bulk_match_profiles_loaded_one_by_one,
    the_keyworker_digest_carries_a_mood_chart_of_her_residents,
);

mod delivery;
mod people;
mod sharing;
mod turns;

/// Every test of the suite, under one name for the macro.
mod suite {
    pub use super::delivery::*;
    pub use super::people::*;
    pub use super::sharing::*;
    pub use super::turns::*;
}

/// A message from `who` on the test platform.
fn inbound(who: &str, event: &str, text: &str) -> carebot_runtime::Inbound {
    carebot_runtime::Inbound {
        pressed: None,
        platform: carebot_tests::app::PLATFORM.into(),
        sender: who.into(),
        event_id: event.into(),
        text: text.into(),
    }
}

/// Ava shares her mood with Sam through the privacy flow (answering yes to mood only).
async fn share_mood_with_sam(app: &TestApp) {
    for text in ["privacy", "yes", "yes", "no", "no"] {
        app.say("ava", text).await;
    }
}
