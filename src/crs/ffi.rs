//! The few PROJ calls the `proj` crate does not expose (PROJJSON and WKT export, EPSG
//! identification, CRS type), wrapped so that no raw pointer leaves this module. The one
//! module of geoframe that may use `unsafe`.
#![allow(unsafe_code)]

use std::ffi::{CStr, CString};
use std::os::raw::c_char;
use std::ptr;

use proj_sys as sys;

use crate::error::{Error, Result};

/// A PROJ object with its own context; destroyed on drop. Not shared between threads.
pub(super) struct Object {
    ctx: *mut sys::PJ_CONTEXT,
    pj: *mut sys::PJ,
}

impl Drop for Object {
    fn drop(&mut self) {
        // SAFETY: both pointers were created by PROJ in `new` and are destroyed once, here.
        unsafe {
            if !self.pj.is_null() {
                sys::proj_destroy(self.pj);
            }
            sys::proj_context_destroy(self.ctx);
        }
    }
}

fn owned(s: *const c_char) -> Option<String> {
    if s.is_null() {
        None
    } else {
        // SAFETY: PROJ returns NUL-terminated strings that live as long as the object.
        Some(unsafe { CStr::from_ptr(s) }.to_string_lossy().into_owned())
    }
}

impl Object {
    pub(super) fn new(definition: &str) -> Result<Object> {
        let c_def = CString::new(definition)
            .map_err(|_| Error::Crs("CRS definition contains a NUL byte".into()))?;
        // SAFETY: a fresh context; `c_def` outlives the call; the result is checked for null.
        unsafe {
            let ctx = sys::proj_context_create();
            sys::proj_log_level(ctx, sys::PJ_LOG_LEVEL_PJ_LOG_NONE);
            let pj = sys::proj_create(ctx, c_def.as_ptr());
            let object = Object { ctx, pj };
            if pj.is_null() || sys::proj_is_crs(pj) == 0 {
                let mut shown: String = definition.chars().take(80).collect();
                if shown.len() < definition.len() {
                    shown.push('…');
                }
                return Err(Error::Crs(format!("unknown CRS: {shown:?}")));
            }
            Ok(object)
        }
    }

    pub(super) fn to_projjson(&self) -> Result<String> {
        // SAFETY: valid object; the returned string is copied before the object is dropped.
        owned(unsafe { sys::proj_as_projjson(self.ctx, self.pj, ptr::null()) })
            .ok_or_else(|| Error::Crs("PROJ cannot write this CRS as PROJJSON".into()))
    }

    pub(super) fn to_esri_wkt(&self) -> Result<String> {
        self.to_wkt(sys::PJ_WKT_TYPE_PJ_WKT1_ESRI, "ESRI WKT")
    }

    pub(super) fn to_wkt1(&self) -> Result<String> {
        self.to_wkt(sys::PJ_WKT_TYPE_PJ_WKT1_GDAL, "WKT1")
    }

    fn to_wkt(&self, kind: sys::PJ_WKT_TYPE, name: &str) -> Result<String> {
        // SAFETY: as above.
        owned(unsafe { sys::proj_as_wkt(self.ctx, self.pj, kind, ptr::null()) })
            .ok_or_else(|| Error::Crs(format!("PROJ cannot write this CRS as {name}")))
    }

    pub(super) fn is_geographic(&self) -> Result<bool> {
        // SAFETY: valid object.
        let kind = unsafe { sys::proj_get_type(self.pj) };
        Ok(kind == sys::PJ_TYPE_PJ_TYPE_GEOGRAPHIC_2D_CRS
            || kind == sys::PJ_TYPE_PJ_TYPE_GEOGRAPHIC_3D_CRS)
    }

    pub(super) fn is_equivalent_to(&self, other: &Object) -> bool {
        // SAFETY: both objects are valid.
        unsafe {
            sys::proj_is_equivalent_to_with_ctx(
                self.ctx,
                self.pj,
                other.pj,
                sys::PJ_COMPARISON_CRITERION_PJ_COMP_EQUIVALENT_EXCEPT_AXIS_ORDER_GEOGCRS,
            ) != 0
        }
    }

    /// The EPSG code: the object's own id, or PROJ's identification at >= 90% confidence
    /// (an ESRI `.prj` carries no id, so "GCS_WGS_1984" needs identification).
    pub(super) fn epsg_code(&self) -> Option<u32> {
        // SAFETY: valid object; list and confidence array are destroyed before returning.
        unsafe {
            if owned(sys::proj_get_id_auth_name(self.pj, 0)).as_deref() == Some("EPSG") {
                if let Some(code) = owned(sys::proj_get_id_code(self.pj, 0)) {
                    return code.parse().ok();
                }
            }
            let auth = CString::new("EPSG").ok()?;
            let mut confidence: *mut i32 = ptr::null_mut();
            let list = sys::proj_identify(
                self.ctx,
                self.pj,
                auth.as_ptr(),
                ptr::null(),
                &mut confidence,
            );
            if list.is_null() {
                return None;
            }
            let mut found = None;
            if sys::proj_list_get_count(list) > 0 && !confidence.is_null() && *confidence >= 90 {
                let best = sys::proj_list_get(self.ctx, list, 0);
                if !best.is_null() {
                    found = owned(sys::proj_get_id_code(best, 0)).and_then(|c| c.parse().ok());
                    sys::proj_destroy(best);
                }
            }
            sys::proj_int_list_destroy(confidence);
            sys::proj_list_destroy(list);
            found
        }
    }
}
