//! `dmf keys` and `dmf users`: the service's API keys and the console's users, in the data
//! folder or the shared database.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use dmf_service::keys::{NewKey, Role};
use dmf_service::users::UserRole;
use serde_json::json;

use clap::{Args, Subcommand};

use crate::args::{Output, RegistryArgs};

/// The password from the terminal without echo, or one line of standard input.
fn read_password(name: &str) -> Result<String> {
    use std::io::IsTerminal;
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password(format!("password for {name}: "))?;
        let again = rpassword::prompt_password("again: ")?;
        if first != again {
            bail!("the two passwords differ");
        }
        return Ok(first);
    }
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .context("cannot read the password from standard input")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

pub fn users_create(args: &UsersCreateArgs) -> Result<ExitCode> {
    require_registry(&args.registry.data)?;
    let role = args.role;
    let users =
        crate::backend::service(&args.registry.data, args.registry.database.url())?.users()?;
    let password = read_password(&args.name)?;
    let user = users.create(&args.name, role, &password, crate::registry_cmd::now_ms())?;
    println!("created console user {} ({})", user.name, user.role.code());
    Ok(ExitCode::SUCCESS)
}

pub fn users_list(args: &UsersListArgs) -> Result<ExitCode> {
    require_registry(&args.registry.data)?;
    let users =
        crate::backend::service(&args.registry.data, args.registry.database.url())?.users()?;
    for u in users.list()? {
        if args.output.json {
            println!(
                "{}",
                json!({ "id": u.id, "name": u.name, "role": u.role.code() })
            );
        } else {
            println!("{}\t{}", u.name, u.role.code());
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn keys_create(args: &KeysCreateArgs) -> Result<ExitCode> {
    require_registry(&args.registry.data)?;
    let service = crate::backend::service(&args.registry.data, args.registry.database.url())?;
    let store = service.keys()?;
    let role = args.role;
    // An agency key is bound to one existing agreement; no other key is.
    let programs = match (role, args.agreement) {
        (Role::Agency, Some(id)) => {
            let programs = service.programs()?;
            programs.state()?.agreement(id)?;
            Some((programs, id))
        }
        (Role::Agency, None) => {
            bail!("an agency key needs --agreement N (see dmf agreements list)")
        }
        (_, Some(_)) => bail!("only agency keys are bound to an agreement, not {role} keys"),
        (_, None) => None,
    };
    let (key, secret) = store.create(
        NewKey {
            name: args.name.clone(),
            role,
            certified: args.certified,
            source: args.source.clone(),
            authority: args.authority.clone(),
            jurisdiction: args.jurisdiction.clone(),
            daily_quota: args.daily_quota,
        },
        crate::registry_cmd::now_ms(),
    )?;
    if let Some((programs, id)) = &programs {
        programs.bind_key(
            *id,
            key.id,
            &key.name,
            "dmf keys create",
            crate::today(),
            crate::registry_cmd::now_ms(),
        )?;
    }
    if args.output.json {
        println!(
            "{}",
            json!({
                "id": key.id, "name": key.name, "role": key.role.code(),
                "certified": key.certified, "source": key.source, "authority": key.authority,
                "jurisdiction": key.jurisdiction, "daily_quota": key.daily_quota,
                "agreement": args.agreement,
                "key": secret,
            })
        );
    } else {
        println!(
            "created {} key {:?} (id {})",
            key.role.code(),
            key.name,
            key.id
        );
        println!("{secret}");
        eprintln!("the key is shown once: store it now");
    }
    Ok(ExitCode::SUCCESS)
}

pub fn keys_list(args: &KeysListArgs) -> Result<ExitCode> {
    require_registry(&args.registry.data)?;
    let store =
        crate::backend::service(&args.registry.data, args.registry.database.url())?.keys()?;
    for k in store.list()? {
        let v = json!({
            "id": k.id, "name": k.name, "role": k.role.code(), "certified": k.certified,
            "source": k.source, "authority": k.authority, "jurisdiction": k.jurisdiction,
            "revoked": k.revoked, "daily_quota": k.daily_quota,
        });
        if args.output.json {
            println!("{v}");
        } else {
            // A reporter's source (and a state's jurisdiction) and an authority's name are what
            // the key may submit as.
            let on_behalf = [
                ("source", &k.source),
                ("jurisdiction", &k.jurisdiction),
                ("authority", &k.authority),
            ]
            .into_iter()
            .filter_map(|(what, v)| v.as_ref().map(|v| format!("\t{what} {v}")))
            .collect::<String>();
            println!(
                "{}\t{}\t{}{on_behalf}{}{}{}",
                k.id,
                k.name,
                k.role.code(),
                if k.certified { "\tcertified" } else { "" },
                k.daily_quota
                    .map(|q| format!("\t{q} a day"))
                    .unwrap_or_default(),
                if k.revoked { "\trevoked" } else { "" }
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn keys_revoke(args: &KeysRevokeArgs) -> Result<ExitCode> {
    require_registry(&args.registry.data)?;
    let store =
        crate::backend::service(&args.registry.data, args.registry.database.url())?.keys()?;
    if !store.revoke(&args.name)? {
        bail!("no key named {:?}", args.name);
    }
    println!("revoked {:?}", args.name);
    Ok(ExitCode::SUCCESS)
}

pub fn keys_quota(args: &KeysQuotaArgs) -> Result<ExitCode> {
    require_registry(&args.registry.data)?;
    let store =
        crate::backend::service(&args.registry.data, args.registry.database.url())?.keys()?;
    let quota = match (args.daily, args.none) {
        (Some(n), false) => Some(n),
        (None, true) => None,
        _ => bail!("give either --daily N or --none"),
    };
    if !store.set_quota(&args.name, quota)? {
        bail!("no key named {:?}", args.name);
    }
    match quota {
        Some(n) => println!("{:?} may have {n} records answered a day", args.name),
        None => println!("{:?} has no daily allowance beyond its rate", args.name),
    }
    Ok(ExitCode::SUCCESS)
}

pub fn require_registry(data: &Path) -> Result<()> {
    // A registry has its log keys in the data folder, whichever store holds its events.
    if !data.join(dmf_ledger::log::LOG_DIR).is_dir() {
        bail!(
            "no registry at {}: run `dmf init --data {}` first",
            data.display(),
            data.display()
        );
    }
    Ok(())
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create a key; prints it once.
    Create(KeysCreateArgs),
    /// List keys (never their secrets).
    List(KeysListArgs),
    /// Revoke a key by name.
    Revoke(KeysRevokeArgs),
    /// Set or clear a verification key's daily allowance of records answered.
    Quota(KeysQuotaArgs),
}

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Add a console user. The password is asked for (or read from standard input, one line).
    Create(UsersCreateArgs),
    /// List the console users.
    List(UsersListArgs),
}

#[derive(Debug, Args)]
pub struct UsersCreateArgs {
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// The user's sign-in name: letters, digits and . - _ @.
    #[arg(long)]
    pub name: String,
    /// caseworker, supervisor (also approves other people's corrections and decides
    /// contests) or oversight (reads statistics and correction progress).
    #[arg(long, value_name = "ROLE")]
    pub role: UserRole,
}

#[derive(Debug, Args)]
pub struct UsersListArgs {
    #[command(flatten)]
    pub registry: RegistryArgs,
    #[command(flatten)]
    pub output: Output,
}

#[derive(Debug, Args)]
pub struct KeysCreateArgs {
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// A unique name for the key's holder.
    #[arg(long)]
    pub name: String,
    /// identity, employment, benefits, subscriber, reporter, authority, caseworker, oversight
    /// or agency.
    #[arg(long, value_name = "ROLE")]
    pub role: Role,
    /// A subscriber certified under the limited-access DMF rule (sees deaths of the last 3
    /// years).
    #[arg(long)]
    pub certified: bool,
    /// A reporter's source kind: state, funeral_home, family, hospital, federal_agency,
    /// financial_institution.
    #[arg(long)]
    pub source: Option<String>,
    /// An authority's name, fixed on every notice it submits.
    #[arg(long)]
    pub authority: Option<String>,
    /// A state reporter's NCHS jurisdiction id (NY, DC, PR, YC for New York City, ...; taken
    /// in either case, stored in capitals): its FHIR VRDR messages must be for it.
    #[arg(long, value_name = "ID")]
    pub jurisdiction: Option<String>,
    /// An agency key's computer-matching agreement: the key acts under it alone.
    #[arg(long)]
    pub agreement: Option<u64>,
    /// Verification keys: the records the key may have answered in a UTC day (a batch over
    /// what is left is refused whole).
    #[arg(long)]
    pub daily_quota: Option<u64>,
    #[command(flatten)]
    pub output: Output,
}

#[derive(Debug, Args)]
pub struct KeysListArgs {
    #[command(flatten)]
    pub registry: RegistryArgs,
    #[command(flatten)]
    pub output: Output,
}

#[derive(Debug, Args)]
pub struct KeysRevokeArgs {
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// The key's name.
    #[arg(long)]
    pub name: String,
}

#[derive(Debug, Args)]
pub struct KeysQuotaArgs {
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// The key's name.
    #[arg(long)]
    pub name: String,
    /// Records the key may have answered in a UTC day.
    #[arg(long, conflicts_with = "none")]
    pub daily: Option<u64>,
    /// No daily allowance beyond the key's rate.
    #[arg(long)]
    pub none: bool,
}
