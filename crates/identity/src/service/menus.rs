//! Menus and function codes: a tree per tenant.

use std::collections::HashMap;

use weir_kernel::Id;
use weir_kernel::store::read;

use super::IdentityService;
use crate::errors::MenuError;
use crate::models::*;
use crate::principal::Principal;

#[derive(Debug, Clone)]
/// A new menu or function code (see [`IdentityService::create_menu`]).
pub struct MenuInput {
    /// The code, unique in the tenant (see [`parse_menu_code`]).
    pub code: String,
    /// The display name, 1 to 128 characters.
    pub name: String,
    /// `MENU` or `FUNCTION`.
    pub menu_type: String,
    /// The menu it sits under, which must be a `MENU`; `None`: at the top.
    pub parent_id: Option<Id>,
}

#[derive(Debug, Clone)]
/// A menu's new name and type; its code and parent stay.
pub struct MenuUpdate {
    /// The display name, 1 to 128 characters.
    pub name: String,
    /// `MENU` or `FUNCTION`.
    pub menu_type: String,
}

/// A menu with its children, as `GET /user/menus` answers.
#[derive(Debug, Clone)]
pub struct MenuNode {
    /// The menu.
    pub menu: Menu,
    /// The menus under it, each with theirs.
    pub children: Vec<MenuNode>,
}

impl IdentityService {
    /// Creates a menu and answers its id; for the super admin only. Refused when the code is
    /// taken or the parent is unknown or a `FUNCTION`.
    pub fn create_menu(&self, p: &Principal, input: MenuInput) -> Result<Id, MenuError> {
        p.require_super_admin()?;
        let code = parse_menu_code("code", &input.code)?;
        let name = parse_name("name", &input.name, 128)?;
        let menu_type = MenuType::parse("type", &input.menu_type)?;
        let now = self.clock.now_ms();
        self.write_changing(&p.tenant_id, |tx| {
            if let Some(parent) = input.parent_id {
                let parent = tx
                    .menu(&p.tenant_id, parent)?
                    .ok_or(MenuError::ParentNotFound(parent))?;
                if parent.menu_type == MenuType::Function {
                    return Err(MenuError::ParentIsFunction);
                }
            }
            if tx.menu_by_code(&p.tenant_id, &code)?.is_some() {
                return Err(MenuError::CodeTaken(code.clone()));
            }
            let menu = Menu {
                id: self.ids.next_id(),
                tenant_id: p.tenant_id.clone(),
                code: code.clone(),
                name: name.clone(),
                menu_type,
                parent_id: input.parent_id,
                built_in: false,
                created_at: now,
            };
            tx.insert_menu(&menu)?;
            Ok(menu.id)
        })
    }

    /// Renames a menu or changes its type; seeded menus are fixed, because the API's
    /// permission checks depend on them.
    pub fn update_menu(&self, p: &Principal, id: Id, input: MenuUpdate) -> Result<(), MenuError> {
        p.require_super_admin()?;
        let name = parse_name("name", &input.name, 128)?;
        let menu_type = MenuType::parse("type", &input.menu_type)?;
        self.write_changing(&p.tenant_id, |tx| {
            let mut menu = tx.menu(&p.tenant_id, id)?.ok_or(MenuError::NotFound(id))?;
            if menu.built_in {
                return Err(MenuError::BuiltIn);
            }
            if menu_type == MenuType::Function && tx.count_menu_children(&p.tenant_id, id)? > 0 {
                return Err(MenuError::ParentIsFunction);
            }
            menu.name = name.clone();
            menu.menu_type = menu_type;
            tx.update_menu(&menu)?;
            Ok(())
        })
    }

    /// Deletes a menu that is not built in and has no children; for the super admin only.
    pub fn delete_menu(&self, p: &Principal, id: Id) -> Result<(), MenuError> {
        p.require_super_admin()?;
        self.write_changing(&p.tenant_id, |tx| {
            let menu = tx.menu(&p.tenant_id, id)?.ok_or(MenuError::NotFound(id))?;
            if menu.built_in {
                return Err(MenuError::BuiltIn);
            }
            let children = tx.count_menu_children(&p.tenant_id, id)?;
            if children > 0 {
                return Err(MenuError::HasChildren(children));
            }
            tx.delete_menu(&p.tenant_id, id)?;
            Ok(())
        })
    }

    /// The tenant's menus as a tree, in creation order at each level.
    pub fn menu_tree(&self, p: &Principal) -> Result<Vec<MenuNode>, MenuError> {
        p.require_super_admin()?;
        let menus = read(self.store(), |tx| tx.menus(&p.tenant_id))?;
        Ok(build_tree(menus))
    }
}

fn build_tree(mut menus: Vec<Menu>) -> Vec<MenuNode> {
    menus.sort_by_key(|m| (m.created_at, m.id));
    let known: std::collections::HashSet<Id> = menus.iter().map(|m| m.id).collect();
    let mut children: HashMap<Option<Id>, Vec<Menu>> = HashMap::new();
    for m in menus {
        // A menu whose parent is gone shows at the top rather than vanishing.
        let parent = m.parent_id.filter(|p| known.contains(p));
        children.entry(parent).or_default().push(m);
    }
    fn attach(parent: Option<Id>, children: &mut HashMap<Option<Id>, Vec<Menu>>) -> Vec<MenuNode> {
        children
            .remove(&parent)
            .unwrap_or_default()
            .into_iter()
            .map(|menu| {
                let kids = attach(Some(menu.id), children);
                MenuNode {
                    menu,
                    children: kids,
                }
            })
            .collect()
    }
    attach(None, &mut children)
}
