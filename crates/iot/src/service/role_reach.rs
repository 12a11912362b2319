//! What a role reaches in the IoT, and what it does not reach yet: the lists behind the
//! role pages of the console. The caller checks that the role may be managed and reads its
//! grants; these lists look at the whole tenant, as the super admin who manages roles does.

use std::collections::BTreeSet;

use weir_kernel::{Page, SearchQuery, TenantId};

use super::IotService;
use super::integrations::IntegrationSummary;
use crate::errors::IotError;
use crate::ports::{Dashboard, Device, VisibleSet};
use crate::viewer::{Limits, Viewer};

/// Most devices one of these lists reads.
const DEVICES_MAX: i64 = 1000;

/// Whether `name` contains the trimmed keyword, case-insensitively (no keyword: all).
fn matches(keyword: Option<&str>, name: &str) -> bool {
    keyword
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .is_none_or(|k| name.to_lowercase().contains(&k.to_lowercase()))
}

impl IotService {
    /// The page `q` names of a list `all` makes from the query's keyword. The page is
    /// checked before the list is made.
    pub fn page_of_list<T>(
        &self,
        q: &SearchQuery,
        all: impl FnOnce(Option<&str>) -> Result<Vec<T>, IotError>,
    ) -> Result<Page<T>, IotError> {
        let page = q.page(self.settings.max_page_size, &[])?;
        Ok(Page::cut(&page, all(q.keyword())?))
    }

    /// The tenant's integrations the role was granted (`granted`), or those it was not,
    /// whose name contains the keyword.
    pub fn role_integrations(
        &self,
        tenant: &TenantId,
        reach: &VisibleSet,
        granted: bool,
        keyword: Option<&str>,
    ) -> Result<Vec<IntegrationSummary>, IotError> {
        let all = self.integrations(&Viewer::system(tenant.clone()), None, None)?;
        Ok(all
            .into_iter()
            .filter(|s| reach.integrations.contains(&s.info.id) == granted)
            .filter(|s| matches(keyword, &s.info.name))
            .collect())
    }

    /// The tenant's devices the role reaches (`granted`), itself or through their
    /// integration, or those it does not reach, whose name contains the keyword; newest
    /// first, at most a thousand.
    pub fn role_devices(
        &self,
        tenant: &TenantId,
        reach: &VisibleSet,
        granted: bool,
        keyword: Option<&str>,
    ) -> Result<Vec<Device>, IotError> {
        let everything = Viewer::system(tenant.clone());
        let role_view = Viewer::limited(
            tenant.clone(),
            Limits {
                functions: BTreeSet::from(["device.view".to_owned()]),
                grants: reach.clone(),
            },
        );
        let query = SearchQuery {
            keyword: keyword.map(str::to_owned),
            page_size: Some(DEVICES_MAX),
            ..Default::default()
        };
        let all = self.search_devices(&everything, &query)?.content;
        Ok(all
            .into_iter()
            .filter(|d| role_view.sees_device(d) == granted)
            .collect())
    }

    /// The tenant's dashboards the role was granted (`granted`), or those it was not,
    /// whose name contains the keyword; oldest first.
    pub fn role_dashboards(
        &self,
        tenant: &TenantId,
        reach: &VisibleSet,
        granted: bool,
        keyword: Option<&str>,
    ) -> Result<Vec<Dashboard>, IotError> {
        let all = self.dashboards(&Viewer::system(tenant.clone()))?;
        Ok(all
            .into_iter()
            .filter(|d| reach.dashboards.contains(&d.id) == granted)
            .filter(|d| matches(keyword, &d.name))
            .collect())
    }
}
