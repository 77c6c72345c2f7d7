//! `dmf keys` and `dmf users`: the service's API keys and the console's users, in the data
//! folder or the shared database.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use dmf_service::keys::{NewKey, Role};
use dmf_service::users::UserRole;
use serde_json::json;

use crate::{
    KeysCreateArgs, KeysListArgs, KeysQuotaArgs, KeysRevokeArgs, UsersCreateArgs, UsersListArgs,
};

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
    require_registry(&args.data)?;
    let role = UserRole::parse(&args.role).with_context(|| {
        format!(
            "--role {:?}: expected caseworker, supervisor or oversight",
            args.role
        )
    })?;
    let users = crate::backend::service(&args.data, args.database.url())?.users()?;
    let password = read_password(&args.name)?;
    let user = users.create(&args.name, role, &password, crate::registry_cmd::now_ms())?;
    println!("created console user {} ({})", user.name, user.role.code());
    Ok(ExitCode::SUCCESS)
}

pub fn users_list(args: &UsersListArgs) -> Result<ExitCode> {
    require_registry(&args.data)?;
    let users = crate::backend::service(&args.data, args.database.url())?.users()?;
    for u in users.list()? {
        if args.json {
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
    require_registry(&args.data)?;
    let service = crate::backend::service(&args.data, args.database.url())?;
    let store = service.keys()?;
    let role: Role = args
        .role
        .parse()
        .map_err(|e| anyhow::anyhow!("--role: {e}"))?;
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
    if args.json {
        println!(
            "{}",
            json!({
                "id": key.id, "name": key.name, "role": key.role.code(),
                "certified": key.certified, "source": key.source, "authority": key.authority,
                "daily_quota": key.daily_quota, "agreement": args.agreement,
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
    require_registry(&args.data)?;
    let store = crate::backend::service(&args.data, args.database.url())?.keys()?;
    for k in store.list()? {
        let v = json!({
            "id": k.id, "name": k.name, "role": k.role.code(), "certified": k.certified,
            "source": k.source, "authority": k.authority, "revoked": k.revoked,
            "daily_quota": k.daily_quota,
        });
        if args.json {
            println!("{v}");
        } else {
            // A reporter's source and an authority's name are what the key may submit as.
            let on_behalf = [("source", &k.source), ("authority", &k.authority)]
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
    require_registry(&args.data)?;
    let store = crate::backend::service(&args.data, args.database.url())?.keys()?;
    if !store.revoke(&args.name)? {
        bail!("no key named {:?}", args.name);
    }
    println!("revoked {:?}", args.name);
    Ok(ExitCode::SUCCESS)
}

pub fn keys_quota(args: &KeysQuotaArgs) -> Result<ExitCode> {
    require_registry(&args.data)?;
    let store = crate::backend::service(&args.data, args.database.url())?.keys()?;
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
