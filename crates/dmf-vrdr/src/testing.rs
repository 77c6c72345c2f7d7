//! For tests and benchmarks: a reference message edited to be another message, naming another
//! record, decedent and date of death, as a state's next message would.

use serde_json::{Value, json};

use crate::CertificateKey;

/// Who a certificate names: SSN, first name, last name, date of birth (`YYYY-MM-DD`).
#[derive(Debug, Clone, Copy)]
pub struct Decedent<'a> {
    pub ssn: &'a str,
    pub given: &'a str,
    pub family: &'a str,
    pub birth: &'a str,
}

/// What to change of a message: its header id, its record (in the Parameters and in the
/// document's identifier, so that the two agree), and for a submission or update the decedent
/// and the date of death.
#[derive(Debug, Clone, Copy)]
pub struct Edit<'a> {
    pub id: &'a str,
    pub record: CertificateKey,
    pub decedent: Option<Decedent<'a>>,
    pub death: Option<&'a str>,
}

/// Every resource of a message and of the documents inside it.
pub fn resources(v: &mut Value) -> Vec<&mut Value> {
    let mut out = Vec::new();
    let Some(entries) = v.get_mut("entry").and_then(Value::as_array_mut) else {
        return out;
    };
    for e in entries {
        let Some(r) = e.get_mut("resource") else {
            continue;
        };
        if r["resourceType"] == "Bundle" {
            out.extend(resources(r));
        } else {
            out.push(r);
        }
    }
    out
}

/// Applies `edit` to a message of the messaging guide (a submission, update, void or alias).
pub fn edit(message: &mut Value, edit: &Edit<'_>) {
    let key = edit.record;
    for r in resources(message) {
        match r["resourceType"].as_str() {
            Some("MessageHeader") => r["id"] = json!(edit.id),
            Some("Parameters") => {
                for p in r["parameter"].as_array_mut().into_iter().flatten() {
                    match p["name"].as_str() {
                        Some("jurisdiction_id") => {
                            p["valueString"] = json!(key.jurisdiction.as_str())
                        }
                        Some("cert_no") => p["valueUnsignedInt"] = json!(key.number),
                        Some("death_year") => p["valueUnsignedInt"] = json!(key.year),
                        _ => {}
                    }
                }
            }
            Some("Patient") => {
                if let Some(d) = edit.decedent {
                    for i in r["identifier"].as_array_mut().into_iter().flatten() {
                        if i["system"] == "http://hl7.org/fhir/sid/us-ssn" {
                            i["value"] = json!(d.ssn);
                        }
                    }
                    r["name"] =
                        json!([{ "use": "official", "given": [d.given], "family": d.family }]);
                    r["birthDate"] = json!(d.birth);
                    if let Some(o) = r.as_object_mut() {
                        o.remove("_birthDate");
                    }
                }
            }
            Some("Observation") if r["code"]["coding"][0]["code"] == "81956-5" => {
                if let Some(dod) = edit.death {
                    r["valueDateTime"] = json!(dod);
                    if let Some(o) = r.as_object_mut() {
                        o.remove("_valueDateTime");
                    }
                }
            }
            _ => {}
        }
    }
    // The document's own record identifier, where it gives one, agrees with the Parameters.
    for e in message["entry"].as_array_mut().into_iter().flatten() {
        let doc = &mut e["resource"];
        if doc["resourceType"] != "Bundle" {
            continue;
        }
        doc["identifier"]["value"] = json!(key.to_string());
        for x in doc["identifier"]["extension"]
            .as_array_mut()
            .into_iter()
            .flatten()
        {
            if x["url"]
                .as_str()
                .is_some_and(|u| u.ends_with("CertificateNumber"))
            {
                x["valueString"] = json!(format!("{:06}", key.number));
            }
        }
    }
}
