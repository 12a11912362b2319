//! Resource permissions (Smartbi 2.9, `perm/assignee/resource`, and Weir's `perm/get`):
//! grants of `ref`, `read` or `edit` on a resource to users, groups and roles, with a
//! scope saying how far a folder's grant reaches, and the level a caller holds on a
//! resource, which every catalog use-case checks. See docs/bi-catalog.md, "Resource
//! permissions".
//!
//! A caller's level on a resource is the highest of:
//! - everything, for the super admin (and the system);
//! - `edit`, for the creator of the resource or of anything it is under;
//! - `ref`, on the two root folders, for every user of the tenant;
//! - each grant concerning the caller (their user id, a role id or group id of theirs)
//!   on the resource itself (any scope), on a non-folder resource it is under (a
//!   datasource's grant reaches its schemas and tables, any scope), or on a folder it is
//!   under whose scope covers it: `FOLDER_FILE` everything under the folder,
//!   `FOLDER_ONLY` the folders under it, `FILE_ONLY` the non-folder resources directly in
//!   it (with what is under those), `NONE` nothing under it.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use weir_kernel::store::{read, write};
use weir_kernel::{Id, Millis, TenantId};

use super::caller::Caller;
use super::errors::CatalogError;
use super::ports::CatalogTx;
use super::resources::ResourceType;
use super::resources::{Resource, ResourceRef};
use super::service::{CatalogService, of_kind, resolve};

/// Most grants one resource may hold, and one call may name.
pub const MAX_GRANTS: usize = 1000;
/// Longest assignee id, in characters.
pub const ASSIGNEE_MAX: usize = 64;
/// Deepest chain of ancestors walked (as the tree's own guard).
const MAX_DEPTH: usize = 64;

/// What a grant allows, in order: `Ref < Read < Edit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Auth {
    /// 引用: see the resource (get it, list it, use it by reference).
    Ref,
    /// 查看: also run it (query a data model).
    Read,
    /// 编辑: also change it, delete it, make things under it, grant on it.
    Edit,
}

impl Auth {
    /// Every level, lowest first.
    pub const ALL: [Auth; 3] = [Self::Ref, Self::Read, Self::Edit];

    /// The level as the API writes it: `ref`, `read` or `edit`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ref => "ref",
            Self::Read => "read",
            Self::Edit => "edit",
        }
    }

    /// As the API writes it, any case.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|a| a.as_str().eq_ignore_ascii_case(s.trim()))
    }
}

impl fmt::Display for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How far a grant on a folder reaches below it (on any other resource a grant reaches
/// everything under it, whatever its scope).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// 只对当前目录: the folder only.
    None,
    /// 当前目录、子目录及文件: the folder and everything under it.
    FolderFile,
    /// 当前目录及子目录: the folder and the folders under it, at any depth.
    FolderOnly,
    /// 该目录及文件: the folder and the non-folder resources directly in it (with what is
    /// under them), not its sub-folders nor what they hold.
    FileOnly,
}

impl Scope {
    /// Every scope, in the order of the variants.
    pub const ALL: [Scope; 4] = [
        Self::None,
        Self::FolderFile,
        Self::FolderOnly,
        Self::FileOnly,
    ];

    /// The scope as the API writes it: `NONE`, `FOLDER_FILE`, `FOLDER_ONLY` or `FILE_ONLY`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "NONE",
            Self::FolderFile => "FOLDER_FILE",
            Self::FolderOnly => "FOLDER_ONLY",
            Self::FileOnly => "FILE_ONLY",
        }
    }

    /// As the API writes it, any case.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|a| a.as_str().eq_ignore_ascii_case(s.trim()))
    }
}

/// Who a grant is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AssigneeKind {
    /// A user, by its Weir id.
    User,
    /// A user group, by the id a client gave it (any text).
    Group,
    /// A role, by its Weir id.
    Role,
}

impl AssigneeKind {
    /// The kind as stored: `USER`, `GROUP` or `ROLE`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "USER",
            Self::Group => "GROUP",
            Self::Role => "ROLE",
        }
    }

    /// The kind [`Self::as_str`] writes, exactly (case included).
    pub fn parse(s: &str) -> Option<Self> {
        [Self::User, Self::Group, Self::Role]
            .into_iter()
            .find(|k| k.as_str() == s)
    }

    /// The field of `permAuth` items that lists them.
    fn field(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Group => "group",
            Self::Role => "role",
        }
    }
}

/// A user, group or role, by its id as `permAuth` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Assignee {
    /// A user, a group or a role.
    pub kind: AssigneeKind,
    /// The user's or role's id as a positive integer in decimal, or the group's id as sent
    /// (trimmed).
    pub id: String,
}

/// A stored grant: one per resource and assignee.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// The tenant of the resource.
    pub tenant_id: TenantId,
    /// The resource the grant is on.
    pub resource_id: Id,
    /// Who it is for.
    pub assignee: Assignee,
    /// The level it gives.
    pub auth: Auth,
    /// How far below a folder it reaches; ignored on other resources.
    pub scope: Scope,
    /// When the grant was last set (a new call for the same assignee sets it again).
    pub created_at: Millis,
}

/// One `permAuth` item as sent: assignees, and `auth` and `scope` as text (`None`: the
/// default, `ref` and `NONE`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GrantRule {
    /// User ids (positive integers).
    pub users: Vec<String>,
    /// Group ids, any text up to [`ASSIGNEE_MAX`] characters.
    pub groups: Vec<String>,
    /// Role ids (positive integers).
    pub roles: Vec<String>,
    /// `ref`, `read` or `edit`, any case.
    pub auth: Option<String>,
    /// `NONE`, `FOLDER_FILE`, `FOLDER_ONLY` or `FILE_ONLY`, any case.
    pub scope: Option<String>,
}

/// A resource's grants as `perm/get` answers them: one rule per `(auth, scope)`, each
/// listing its users, groups and roles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantSet {
    /// The level the rule's assignees hold.
    pub auth: Auth,
    /// How far below a folder it reaches.
    pub scope: Scope,
    /// User ids holding it.
    pub users: Vec<String>,
    /// Group ids holding it.
    pub groups: Vec<String>,
    /// Role ids holding it.
    pub roles: Vec<String>,
}

impl Caller {
    /// Who grants may name for this caller: their user id, role ids and group ids.
    pub fn assignees(&self) -> Vec<Assignee> {
        let mut out: Vec<Assignee> = self
            .user_id
            .map(|id| Assignee {
                kind: AssigneeKind::User,
                id: id.to_string(),
            })
            .into_iter()
            .collect();
        out.extend(self.roles.iter().map(|r| Assignee {
            kind: AssigneeKind::Role,
            id: r.to_string(),
        }));
        out.extend(self.groups.iter().map(|g| Assignee {
            kind: AssigneeKind::Group,
            id: g.clone(),
        }));
        out
    }
}

/// The caller's level on resources: the grants concerning them, loaded once.
pub(super) struct Access<'c> {
    caller: &'c Caller,
    /// `None`: the caller holds everything (super admin, system).
    grants: Option<HashMap<Id, Vec<(Auth, Scope)>>>,
}

impl<'c> Access<'c> {
    pub(super) fn load(tx: &mut dyn CatalogTx, c: &'c Caller) -> Result<Self, CatalogError> {
        if c.holds_everything() {
            return Ok(Self {
                caller: c,
                grants: None,
            });
        }
        let mut by_resource: HashMap<Id, Vec<(Auth, Scope)>> = HashMap::new();
        for g in tx.grants_to(&c.tenant_id, &c.assignees())? {
            by_resource
                .entry(g.resource_id)
                .or_default()
                .push((g.auth, g.scope));
        }
        Ok(Self {
            caller: c,
            grants: Some(by_resource),
        })
    }

    /// The level on `chain[0]`, where `chain` is the resource and then its ancestors up to
    /// its root; `None`: the caller may not even see it.
    pub(super) fn level(&self, chain: &[&Resource]) -> Option<Auth> {
        let target = chain.first()?;
        let Some(grants) = self.grants.as_ref() else {
            return Some(Auth::Edit);
        };
        let mut best = target.root.map(|_| Auth::Ref);
        // Whether every resource strictly between the target and the ancestor looked at
        // is a non-folder (FILE_ONLY reaches only through those).
        let mut files_between = true;
        for (depth, a) in chain.iter().enumerate() {
            if a.creator_id.is_some() && a.creator_id == self.caller.user_id {
                return Some(Auth::Edit);
            }
            for &(auth, scope) in grants.get(&a.id).into_iter().flatten() {
                let reaches = depth == 0
                    || !a.is_folder()
                    || match scope {
                        Scope::None => false,
                        Scope::FolderFile => true,
                        Scope::FolderOnly => target.is_folder(),
                        Scope::FileOnly => !target.is_folder() && files_between,
                    };
                if reaches {
                    best = best.max(Some(auth));
                }
            }
            if depth > 0 && a.is_folder() {
                files_between = false;
            }
        }
        best
    }

    /// The level on a resource, its ancestors read from the store.
    pub(super) fn level_of(
        &self,
        tx: &mut dyn CatalogTx,
        r: &Resource,
    ) -> Result<Option<Auth>, CatalogError> {
        if self.grants.is_none() {
            return Ok(Some(Auth::Edit));
        }
        let chain = ancestry(tx, r)?;
        let refs: Vec<&Resource> = chain.iter().collect();
        Ok(self.level(&refs))
    }

    /// Refuses unless the caller holds `need` on `r`: a resource they may not see is not
    /// found, one they see but may not use so is a permission refusal.
    pub(super) fn require(
        &self,
        tx: &mut dyn CatalogTx,
        r: &Resource,
        need: Auth,
    ) -> Result<(), CatalogError> {
        check(r, self.level_of(tx, r)?, need)
    }
}

/// Refuses `held` when it is below `need`.
pub(super) fn check(r: &Resource, held: Option<Auth>, need: Auth) -> Result<(), CatalogError> {
    match held {
        None => Err(CatalogError::not_found(r.api_id())),
        Some(h) if h < need => Err(CatalogError::Denied {
            id: r.api_id(),
            kind: r.kind.noun(),
            need,
            held: h,
        }),
        Some(_) => Ok(()),
    }
}

/// `r` and its ancestors, up to its root.
pub(super) fn ancestry(
    tx: &mut dyn CatalogTx,
    r: &Resource,
) -> Result<Vec<Resource>, CatalogError> {
    let mut chain = vec![r.clone()];
    let mut parent = r.parent_id;
    while let Some(id) = parent {
        if chain.len() > MAX_DEPTH {
            return Err(CatalogError::Store(weir_kernel::StoreError::Internal(
                format!("resource {} is deeper than {MAX_DEPTH} levels", r.id),
            )));
        }
        let p = tx.resource(&r.tenant_id, id)?.ok_or_else(|| {
            CatalogError::Store(weir_kernel::StoreError::Internal(format!(
                "the parent {id} of resource {} is missing",
                r.id
            )))
        })?;
        parent = p.parent_id;
        chain.push(p);
    }
    Ok(chain)
}

/// The resource `r` names, if the caller holds `need` on it.
pub(super) fn open(
    tx: &mut dyn CatalogTx,
    c: &Caller,
    r: ResourceRef,
    need: Auth,
) -> Result<Resource, CatalogError> {
    let found = resolve(tx, &c.tenant_id, r)?;
    Access::load(tx, c)?.require(tx, &found, need)?;
    Ok(found)
}

/// The resource `r` names, of type `kind` (else refused naming `field`), if the caller
/// holds `need` on it. What the caller may not see is not found, whatever its type.
pub(super) fn open_as(
    tx: &mut dyn CatalogTx,
    c: &Caller,
    r: ResourceRef,
    kind: ResourceType,
    field: &str,
    need: Auth,
) -> Result<Resource, CatalogError> {
    let found = resolve(tx, &c.tenant_id, r)?;
    let held = Access::load(tx, c)?.level_of(tx, &found)?;
    check(&found, held, Auth::Ref)?;
    let found = of_kind(found, kind, field)?;
    check(&found, held, need)?;
    Ok(found)
}

/// Reads the assignee ids of one list of a rule.
fn assignees_of(
    at: &str,
    kind: AssigneeKind,
    ids: &[String],
    out: &mut Vec<(Assignee, String)>,
) -> Result<(), CatalogError> {
    for (j, raw) in ids.iter().enumerate() {
        let field = format!("{at}.{}[{j}]", kind.field());
        let id = raw.trim();
        if id.is_empty() {
            return Err(CatalogError::invalid(field, "must not be empty"));
        }
        if id.chars().count() > ASSIGNEE_MAX || id.chars().any(char::is_control) {
            return Err(CatalogError::invalid(
                field,
                format!("must be at most {ASSIGNEE_MAX} characters, without control characters"),
            ));
        }
        // Users and roles are Weir ids; group ids are text a client may choose, kept as sent.
        let id = match kind {
            AssigneeKind::Group => id.to_owned(),
            _ => match id.parse::<i64>() {
                Ok(n) if n > 0 => n.to_string(),
                _ => {
                    return Err(CatalogError::invalid(
                        field,
                        format!(
                            "`{}` is not a {} id (a positive integer)",
                            id.chars().take(ASSIGNEE_MAX).collect::<String>(),
                            kind.field()
                        ),
                    ));
                }
            },
        };
        out.push((Assignee { kind, id }, field));
    }
    Ok(())
}

/// Checks the `permAuth` items: every assignee once, `auth` and `scope` known.
fn checked_rules(rules: &[GrantRule]) -> Result<Vec<(Assignee, Auth, Scope)>, CatalogError> {
    if rules.len() > MAX_GRANTS {
        return Err(CatalogError::invalid(
            "permAuth",
            format!("at most {MAX_GRANTS} items, not {}", rules.len()),
        ));
    }
    let mut out = Vec::new();
    let mut seen: BTreeMap<Assignee, String> = BTreeMap::new();
    for (i, rule) in rules.iter().enumerate() {
        let at = format!("permAuth[{i}]");
        let auth = match rule.auth.as_deref().map(str::trim) {
            None | Some("") => Auth::Ref,
            Some(s) => Auth::parse(s).ok_or_else(|| {
                CatalogError::invalid(
                    format!("{at}.auth"),
                    format!(
                        "unknown auth `{}` (known: ref, read, edit)",
                        s.chars().take(32).collect::<String>()
                    ),
                )
            })?,
        };
        let scope = match rule.scope.as_deref().map(str::trim) {
            None | Some("") => Scope::None,
            Some(s) => Scope::parse(s).ok_or_else(|| {
                CatalogError::invalid(
                    format!("{at}.scope"),
                    format!(
                        "unknown scope `{}` (known: NONE, FOLDER_FILE, FOLDER_ONLY, FILE_ONLY)",
                        s.chars().take(32).collect::<String>()
                    ),
                )
            })?,
        };
        let mut named = Vec::new();
        assignees_of(&at, AssigneeKind::User, &rule.users, &mut named)?;
        assignees_of(&at, AssigneeKind::Group, &rule.groups, &mut named)?;
        assignees_of(&at, AssigneeKind::Role, &rule.roles, &mut named)?;
        if named.is_empty() {
            return Err(CatalogError::invalid(
                at,
                "names no user, group or role: list at least one",
            ));
        }
        for (a, field) in named {
            if let Some(first) = seen.get(&a) {
                return Err(CatalogError::invalid(
                    field,
                    format!(
                        "{} {} is already given at {first}: one grant per assignee",
                        a.kind.field(),
                        a.id
                    ),
                ));
            }
            seen.insert(a.clone(), field);
            out.push((a, auth, scope));
        }
    }
    if out.len() > MAX_GRANTS {
        return Err(CatalogError::invalid(
            "permAuth",
            format!("at most {MAX_GRANTS} assignees in all, not {}", out.len()),
        ));
    }
    Ok(out)
}

impl CatalogService {
    /// `perm/assignee/resource`: grants on a resource. With `replace` (`override`) the
    /// resource's grants become exactly these (an empty list removes them all); else they
    /// are added, a grant for an assignee the resource already has a grant for replacing
    /// that grant. Needs `edit` on the resource. All or nothing.
    pub fn set_grants(
        &self,
        c: &Caller,
        id: ResourceRef,
        rules: &[GrantRule],
        replace: bool,
    ) -> Result<(), CatalogError> {
        let wanted = checked_rules(rules)?;
        let t = &c.tenant_id;
        let now = self.now();
        self.roots_for(t, id)?;
        write(self.store(), |tx| {
            let r = open(tx, c, id, Auth::Edit)?;
            tx.lock_resource(t, r.id)?;
            let mut grants = if replace {
                Vec::new()
            } else {
                tx.grants(t, r.id)?
            };
            for (assignee, auth, scope) in &wanted {
                match grants.iter_mut().find(|g| g.assignee == *assignee) {
                    Some(g) => {
                        g.auth = *auth;
                        g.scope = *scope;
                        g.created_at = now;
                    }
                    None => grants.push(Grant {
                        tenant_id: t.clone(),
                        resource_id: r.id,
                        assignee: assignee.clone(),
                        auth: *auth,
                        scope: *scope,
                        created_at: now,
                    }),
                }
            }
            if grants.len() > MAX_GRANTS {
                return Err(CatalogError::invalid(
                    "permAuth",
                    format!(
                        "resource {} would hold {} grants, more than {MAX_GRANTS}",
                        r.api_id(),
                        grants.len()
                    ),
                ));
            }
            tx.replace_grants(t, r.id, &grants)?;
            Ok(())
        })
    }

    /// `perm/get` (Weir's own): a resource's grants, one rule per `(auth, scope)` in that
    /// order, ids sorted. Needs `ref` on the resource.
    pub fn grants(&self, c: &Caller, id: ResourceRef) -> Result<Vec<GrantSet>, CatalogError> {
        self.roots_for(&c.tenant_id, id)?;
        read(self.store(), |tx| {
            let r = open(tx, c, id, Auth::Ref)?;
            Ok(group(tx.grants(&c.tenant_id, r.id)?))
        })
    }
}

/// Grants as rules, one per `(auth, scope)`.
pub fn group(grants: Vec<Grant>) -> Vec<GrantSet> {
    let mut by: BTreeMap<(Auth, Scope), GrantSet> = BTreeMap::new();
    for g in grants {
        let set = by.entry((g.auth, g.scope)).or_insert_with(|| GrantSet {
            auth: g.auth,
            scope: g.scope,
            users: Vec::new(),
            groups: Vec::new(),
            roles: Vec::new(),
        });
        match g.assignee.kind {
            AssigneeKind::User => set.users.push(g.assignee.id),
            AssigneeKind::Group => set.groups.push(g.assignee.id),
            AssigneeKind::Role => set.roles.push(g.assignee.id),
        }
    }
    by.into_values()
        .map(|mut s| {
            for ids in [&mut s.users, &mut s.groups, &mut s.roles] {
                ids.sort_by(|a, b| (a.len(), a).cmp(&(b.len(), b)));
            }
            s
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::resources::Root;

    fn res(id: i64, parent: Option<i64>, kind: ResourceType) -> Resource {
        Resource {
            id: Id(id),
            tenant_id: TenantId::parse("t1").unwrap(),
            parent_id: parent.map(Id),
            root: None,
            kind,
            name: format!("r{id}"),
            alias: String::new(),
            desc: String::new(),
            creator_id: None,
            creator_name: String::new(),
            created_at: 0,
            updated_at: 0,
        }
    }

    fn access<'c>(c: &'c Caller, grants: &[(i64, Auth, Scope)]) -> Access<'c> {
        let mut map: HashMap<Id, Vec<(Auth, Scope)>> = HashMap::new();
        for &(id, a, s) in grants {
            map.entry(Id(id)).or_default().push((a, s));
        }
        Access {
            caller: c,
            grants: Some(map),
        }
    }

    #[test]
    fn scopes_reach_as_the_table_says() {
        use ResourceType::*;
        let mut root = res(1, None, Folder);
        root.root = Some(Root::Public);
        let folder = res(2, Some(1), Folder);
        let sub = res(3, Some(2), Folder);
        let model = res(4, Some(2), DataModel);
        let deep_model = res(5, Some(3), DataModel);
        let ds = res(6, Some(2), Datasource);
        let table = res(7, Some(6), Table);
        let c = Caller::user(TenantId::parse("t1").unwrap(), Id(99), "u");
        let chains: [(&str, Vec<&Resource>); 6] = [
            ("folder", vec![&folder, &root]),
            ("sub", vec![&sub, &folder, &root]),
            ("model", vec![&model, &folder, &root]),
            ("deep_model", vec![&deep_model, &sub, &folder, &root]),
            ("ds", vec![&ds, &folder, &root]),
            ("table", vec![&table, &ds, &folder, &root]),
        ];
        let expect = |scope: Scope, want: [bool; 6]| {
            let a = access(&c, &[(2, Auth::Read, scope)]);
            for ((name, chain), want) in chains.iter().zip(want) {
                assert_eq!(
                    a.level(chain) == Some(Auth::Read),
                    want,
                    "{scope:?} on the folder, {name}"
                );
            }
        };
        expect(Scope::None, [true, false, false, false, false, false]);
        expect(Scope::FolderFile, [true; 6]);
        expect(Scope::FolderOnly, [true, true, false, false, false, false]);
        expect(Scope::FileOnly, [true, false, true, false, true, true]);
        // A grant on a datasource reaches its tables, whatever its scope.
        let a = access(&c, &[(6, Auth::Edit, Scope::None)]);
        assert_eq!(a.level(&chains[5].1), Some(Auth::Edit));
        // The highest grant wins; roots are seen by everyone; nothing else is.
        let a = access(
            &c,
            &[
                (2, Auth::Ref, Scope::FolderFile),
                (4, Auth::Edit, Scope::None),
            ],
        );
        assert_eq!(a.level(&chains[2].1), Some(Auth::Edit));
        assert_eq!(a.level(&[&root]), Some(Auth::Ref));
        assert_eq!(access(&c, &[]).level(&chains[0].1), None);
        // The creator of a folder edits what is under it.
        let mut mine = folder.clone();
        mine.creator_id = Some(Id(99));
        assert_eq!(
            access(&c, &[]).level(&[&deep_model, &sub, &mine, &root]),
            Some(Auth::Edit)
        );
    }

    #[test]
    fn rules_are_checked_naming_the_field() {
        let rule = |auth: &str, scope: &str, users: &[&str]| GrantRule {
            users: users.iter().map(|s| s.to_string()).collect(),
            auth: Some(auth.into()),
            scope: Some(scope.into()),
            ..GrantRule::default()
        };
        let e = checked_rules(&[rule("read", "NONE", &["1"]), rule("write", "NONE", &["2"])])
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "permAuth[1].auth: unknown auth `write` (known: ref, read, edit)"
        );
        let e = checked_rules(&[rule("read", "ALL", &["1"])]).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("permAuth[0].scope: unknown scope `ALL`")
        );
        let e = checked_rules(&[rule("read", "", &["1", "x"])]).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("permAuth[0].user[1]: `x` is not a user id")
        );
        let e = checked_rules(&[rule("read", "", &[])]).unwrap_err();
        assert!(e.to_string().starts_with("permAuth[0]: names no user"));
        let e = checked_rules(&[rule("read", "", &["5"]), rule("edit", "", &["5"])]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "permAuth[1].user[0]: user 5 is already given at permAuth[0].user[0]: one grant per assignee"
        );
        let ok = checked_rules(&[GrantRule {
            roles: vec!["7".into()],
            ..GrantRule::default()
        }])
        .unwrap();
        assert_eq!(
            ok,
            vec![(
                Assignee {
                    kind: AssigneeKind::Role,
                    id: "7".into()
                },
                Auth::Ref,
                Scope::None
            )]
        );
    }
}
