//! Dashboards: created, renamed and refilled with widgets, listed, deleted.

use serde_json::{Map, Value as Json};
use weir_kernel::Id;
use weir_kernel::store::{read, write};

use super::{IotService, display_name};
use crate::errors::IotError;
use crate::ports::{Dashboard, DashboardRepo, Widget};
use crate::viewer::Viewer;

/// A widget as a dashboard update gives it: `widget_id` absent for a new widget.
#[derive(Debug, Clone, PartialEq)]
pub struct WidgetInput {
    /// The widget's id; `None` for a new widget, which is given one.
    pub widget_id: Option<String>,
    /// The widget's settings, kept as given.
    pub data: Map<String, Json>,
}

/// A widget id as a refusal names it: at most 64 characters.
fn clipped(widget_id: &str) -> String {
    widget_id.chars().take(64).collect()
}

/// Most widgets one dashboard holds.
pub const MAX_WIDGETS: usize = 100;

fn check_widgets(widgets: &[Widget]) -> Result<(), IotError> {
    if widgets.len() > MAX_WIDGETS {
        return Err(IotError::invalid(
            "widgets",
            format!("must hold at most {MAX_WIDGETS} widgets"),
        ));
    }
    for (i, w) in widgets.iter().enumerate() {
        let id = w.widget_id.trim();
        if id.is_empty() || id.len() > 64 {
            return Err(IotError::invalid(
                format!("widgets[{i}].widget_id"),
                "must be 1 to 64 characters",
            ));
        }
        if widgets[..i].iter().any(|o| o.widget_id == w.widget_id) {
            return Err(IotError::invalid(
                format!("widgets[{i}].widget_id"),
                "repeats an earlier widget",
            ));
        }
    }
    Ok(())
}

impl IotService {
    fn visible_dashboard(
        &self,
        tx: &mut dyn DashboardRepo,
        v: &Viewer,
        id: Id,
    ) -> Result<Dashboard, IotError> {
        tx.dashboard(&v.tenant_id, id)?
            .filter(|d| v.sees_dashboard(d))
            .ok_or_else(|| IotError::not_found("dashboard", id))
    }

    fn name_free(
        tx: &mut dyn DashboardRepo,
        v: &Viewer,
        name: &str,
        except: Option<Id>,
    ) -> Result<(), IotError> {
        match tx.dashboard_by_name(&v.tenant_id, name)? {
            Some(other) if Some(other.id) != except => Err(IotError::DashboardExists(name.into())),
            _ => Ok(()),
        }
    }

    /// Creates an empty dashboard; needs `dashboard.add`. Refused when the name is not 1 to
    /// 64 characters or another dashboard of the tenant has it.
    pub fn create_dashboard(&self, v: &Viewer, name: &str) -> Result<Dashboard, IotError> {
        v.require("dashboard.add")?;
        let name = display_name(name)?;
        let now = self.clock.now_ms();
        let dashboard = Dashboard {
            id: self.ids.next_id(),
            tenant_id: v.tenant_id.clone(),
            user_id: v.user_id,
            name,
            widgets: Vec::new(),
            created_at: now,
            updated_at: now,
        };
        write(self.store(), |tx| -> Result<(), IotError> {
            Self::name_free(tx, v, &dashboard.name, None)?;
            Ok(tx.insert_dashboard(&dashboard)?)
        })?;
        Ok(dashboard)
    }

    /// Renames a dashboard and replaces its widgets. A widget without an id is new: it
    /// gets one here (the web console sends new widgets with a temporary id of its own,
    /// which is not kept).
    pub fn update_dashboard(
        &self,
        v: &Viewer,
        id: Id,
        name: &str,
        widgets: Vec<WidgetInput>,
    ) -> Result<(), IotError> {
        v.require("dashboard.edit")?;
        let name = display_name(name)?;
        let widgets: Vec<Widget> = widgets
            .into_iter()
            .map(|w| Widget {
                widget_id: w
                    .widget_id
                    .unwrap_or_else(|| self.ids.next_id().to_string()),
                data: w.data,
            })
            .collect();
        check_widgets(&widgets)?;
        let now = self.clock.now_ms();
        write(self.store(), |tx| {
            let mut d = self.visible_dashboard(tx, v, id)?;
            Self::name_free(tx, v, &name, Some(id))?;
            d.name = name.clone();
            d.widgets = widgets.clone();
            d.updated_at = now;
            Ok(tx.update_dashboard(&d)?)
        })
    }

    /// Adds one widget to a dashboard: `POST /dashboard/{id}/widget`. It gets a new id.
    pub fn add_widget(
        &self,
        v: &Viewer,
        id: Id,
        data: Map<String, Json>,
    ) -> Result<Widget, IotError> {
        let widget = Widget {
            widget_id: self.ids.next_id().to_string(),
            data,
        };
        let added = widget.clone();
        self.change_widgets(v, id, move |widgets| {
            widgets.push(added);
            Ok(())
        })?;
        Ok(widget)
    }

    /// Replaces one widget's data: `PUT /dashboard/{id}/widget/{widget_id}`.
    pub fn update_widget(
        &self,
        v: &Viewer,
        id: Id,
        widget_id: &str,
        data: Map<String, Json>,
    ) -> Result<(), IotError> {
        self.change_widgets(v, id, |widgets| {
            let widget = widgets
                .iter_mut()
                .find(|w| w.widget_id == widget_id)
                .ok_or_else(|| IotError::not_found("widget", clipped(widget_id)))?;
            widget.data = data;
            Ok(())
        })
    }

    /// Removes one widget: `DELETE /dashboard/{id}/widget/{widget_id}`.
    pub fn delete_widget(&self, v: &Viewer, id: Id, widget_id: &str) -> Result<(), IotError> {
        self.change_widgets(v, id, |widgets| {
            let before = widgets.len();
            widgets.retain(|w| w.widget_id != widget_id);
            if widgets.len() == before {
                return Err(IotError::not_found("widget", clipped(widget_id)));
            }
            Ok(())
        })
    }

    /// Changes a visible dashboard's widgets in one write, under `dashboard.edit`; the
    /// result holds to the widget rules of a whole update.
    fn change_widgets(
        &self,
        v: &Viewer,
        id: Id,
        change: impl FnOnce(&mut Vec<Widget>) -> Result<(), IotError>,
    ) -> Result<(), IotError> {
        v.require("dashboard.edit")?;
        let now = self.clock.now_ms();
        write(self.store(), move |tx| {
            let mut d = self.visible_dashboard(tx, v, id)?;
            change(&mut d.widgets)?;
            check_widgets(&d.widgets)?;
            d.updated_at = now;
            Ok(tx.update_dashboard(&d)?)
        })
    }

    /// Deletes a dashboard the caller sees; needs `dashboard.delete`.
    pub fn delete_dashboard(&self, v: &Viewer, id: Id) -> Result<(), IotError> {
        v.require("dashboard.delete")?;
        write(self.store(), |tx| {
            self.visible_dashboard(tx, v, id)?;
            Ok(tx.delete_dashboard(&v.tenant_id, id)?)
        })
    }

    /// The dashboards the caller may see, oldest first.
    pub fn dashboards(&self, v: &Viewer) -> Result<Vec<Dashboard>, IotError> {
        v.require("dashboard.view")?;
        let all = read(self.store(), |tx| tx.dashboards(&v.tenant_id))?;
        Ok(all.into_iter().filter(|d| v.sees_dashboard(d)).collect())
    }
}
