//! Seeded, realistic statements shaped like Open edX video statements converted to xAPI
//! (account actors, video verbs, context activities, result and context extensions), ~1.3 KB.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

/// Users in the pool (GET by agent draws from it).
pub const USERS: u64 = 1000;
/// Videos in the pool (GET by activity draws from it).
pub const VIDEOS: u64 = 500;
/// Registrations in the pool (GET by registration draws from it).
pub const REGISTRATIONS: u64 = 5000;

/// Verbs of the ADL video profile, with display names.
pub const VERBS: [(&str, &str); 6] = [
    ("https://w3id.org/xapi/video/verbs/played", "played"),
    ("https://w3id.org/xapi/video/verbs/paused", "paused"),
    ("https://w3id.org/xapi/video/verbs/seeked", "seeked"),
    ("https://w3id.org/xapi/video/verbs/completed", "completed"),
    ("http://adlnet.gov/expapi/verbs/initialized", "initialized"),
    ("http://adlnet.gov/expapi/verbs/terminated", "terminated"),
];

/// Makes statements from a seed.
#[derive(Debug, Clone, Copy)]
pub struct Generator {
    seed: u64,
}

/// The actor JSON of user `n`.
pub fn actor(n: u64) -> Value {
    json!({"objectType": "Agent", "account": {"homePage": "https://lms.example.org", "name": format!("user-{n:05}")}})
}

/// The activity id of video `n`.
pub fn video_id(n: u64) -> String {
    format!("https://lms.example.org/xblock/block-v1:Org+Course+Run+type@video+block@{n:032x}")
}

fn uuid_from(rng: &mut StdRng) -> String {
    uuid::Builder::from_random_bytes(rng.random())
        .into_uuid()
        .to_string()
}

impl Generator {
    /// A generator for a seed.
    pub fn new(seed: u64) -> Self {
        Self { seed }
    }

    /// Registration `n` of the pool (statements draw theirs from `0..REGISTRATIONS`).
    pub fn registration(&self, n: u64) -> String {
        uuid_from(&mut StdRng::seed_from_u64(self.seed ^ n))
    }

    /// Statement number `i` of stream `stream` (deterministic, fresh id each).
    pub fn statement(&self, stream: u64, i: u64) -> Value {
        let mut rng = StdRng::seed_from_u64(
            self.seed ^ (stream << 40) ^ i.wrapping_mul(0x9E37_79B9_7F4A_7C15),
        );
        let user = rng.random_range(0..USERS);
        let video = rng.random_range(0..VIDEOS);
        let (verb, display) = VERBS[rng.random_range(0..VERBS.len())];
        let registration = self.registration(rng.random_range(0..REGISTRATIONS));
        let time: f64 = rng.random_range(0.0..600.0);
        json!({
            "id": uuid_from(&mut rng),
            "actor": actor(user),
            "verb": {"id": verb, "display": {"en-US": display}},
            "object": {
                "objectType": "Activity",
                "id": video_id(video),
                "definition": {"type": "https://w3id.org/xapi/video/activity-type/video",
                               "name": {"en-US": format!("Lecture video {video}")}}
            },
            "result": {"extensions": {
                "https://w3id.org/xapi/video/extensions/time": (time * 1000.0).round() / 1000.0,
                "https://w3id.org/xapi/video/extensions/progress": (time / 6.0).round() / 100.0,
                "https://w3id.org/xapi/video/extensions/played-segments": format!("0[.]{:.3}", time)
            }},
            "context": {
                "registration": registration,
                "platform": "Open edX",
                "contextActivities": {
                    "parent": [{"id": "https://lms.example.org/course/course-v1:Org+Course+Run", "objectType": "Activity",
                                "definition": {"type": "http://adlnet.gov/expapi/activities/course"}}],
                    "category": [{"id": "https://w3id.org/xapi/video", "definition": {"type": "http://adlnet.gov/expapi/activities/profile"}}]
                },
                "extensions": {
                    "https://w3id.org/xapi/video/extensions/session-id": uuid_from(&mut rng),
                    "https://w3id.org/xapi/video/extensions/length": 600,
                    "https://w3id.org/xapi/video/extensions/completion-threshold": 0.9,
                    "https://w3id.org/xapi/video/extensions/user-agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"
                }
            },
            "timestamp": "2026-11-20T10:00:00.000Z"
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_are_deterministic_for_a_seed_and_realistic_in_size() {
        let g = Generator::new(7);
        assert_eq!(g.statement(1, 5), g.statement(1, 5));
        assert_ne!(g.statement(1, 5)["id"], g.statement(1, 6)["id"]);
        let len = g.statement(0, 0).to_string().len();
        assert!((1000..1800).contains(&len), "{len} bytes");
    }
}
