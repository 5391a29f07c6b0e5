package api

import (
	"net/http"
	"strings"

	"github.com/pinfold/pinfold"
)

// routes registers every operation. Pinfold's additions to Pinpoint are marked; all else is
// Pinpoint's route, method and operation name (PINPOINT.md §2.1).
func (s *Server) routes(mux *http.ServeMux) {
	routes := []struct {
		method, path, op string
		h                handlerFunc
	}{
		{"POST", "/v1/apps", "CreateApp", s.createApp},
		{"GET", "/v1/apps", "GetApps", s.getApps},
		{"GET", "/v1/apps/{app}", "GetApp", s.getApp},
		{"DELETE", "/v1/apps/{app}", "DeleteApp", s.deleteApp},

		{"POST", "/v1/apps/{app}/jobs/import", "CreateImportJob", s.createImportJob},
		{"GET", "/v1/apps/{app}/jobs/import", "GetImportJobs", s.getImportJobs},
		{"GET", "/v1/apps/{app}/jobs/import/{job}", "GetImportJob", s.getImportJob},
		{"GET", "/v1/apps/{app}/jobs/import/{job}/failures", "GetImportJobFailures", s.getImportJobFailures}, // Pinfold
		{"GET", "/v1/apps/{app}/jobs/import/{job}/states", "GetImportJobStates", s.getImportJobStates},       // Pinfold
		{"GET", "/v1/apps/{app}/segments/{segment}/jobs/import", "GetSegmentImportJobs", s.getSegmentImportJobs},

		{"POST", "/v1/apps/{app}/jobs/export", "CreateExportJob", s.createExportJob},
		{"GET", "/v1/apps/{app}/jobs/export", "GetExportJobs", s.getExportJobs},
		{"GET", "/v1/apps/{app}/jobs/export/{job}", "GetExportJob", s.getExportJob},
		{"GET", "/v1/apps/{app}/segments/{segment}/jobs/export", "GetSegmentExportJobs", s.getSegmentExportJobs},

		{"POST", "/v1/apps/{app}/segments", "CreateSegment", s.createSegment},
		{"GET", "/v1/apps/{app}/segments", "GetSegments", s.getSegments},
		{"GET", "/v1/apps/{app}/segments/{segment}", "GetSegment", s.getSegment},
		{"PUT", "/v1/apps/{app}/segments/{segment}", "UpdateSegment", s.updateSegment},
		{"DELETE", "/v1/apps/{app}/segments/{segment}", "DeleteSegment", s.deleteSegment},
		{"GET", "/v1/apps/{app}/segments/{segment}/versions", "GetSegmentVersions", s.getSegmentVersions},
		{"GET", "/v1/apps/{app}/segments/{segment}/versions/{version}", "GetSegmentVersion", s.getSegmentVersion},
		{"GET", "/v1/apps/{app}/segments/{segment}/endpoints", "GetSegmentEndpoints", s.getSegmentEndpoints}, // Pinfold

		{"PUT", "/v1/apps/{app}/endpoints", "UpdateEndpointsBatch", s.updateEndpointsBatch},
		{"GET", "/v1/apps/{app}/endpoints/{endpoint}", "GetEndpoint", s.getEndpoint},
		{"PUT", "/v1/apps/{app}/endpoints/{endpoint}", "UpdateEndpoint", s.updateEndpoint},
		{"DELETE", "/v1/apps/{app}/endpoints/{endpoint}", "DeleteEndpoint", s.deleteEndpoint},
		{"GET", "/v1/apps/{app}/users/{user}", "GetUserEndpoints", s.getUserEndpoints},
		{"DELETE", "/v1/apps/{app}/users/{user}", "DeleteUserEndpoints", s.deleteUserEndpoints},

		{"POST", "/v1/pinfold/keys", "CreateAccessKey", s.createAccessKey},         // Pinfold, root key only
		{"GET", "/v1/pinfold/keys", "GetAccessKeys", s.getAccessKeys},              // Pinfold, root key only
		{"DELETE", "/v1/pinfold/keys/{key}", "RevokeAccessKey", s.revokeAccessKey}, // Pinfold, root key only
	}
	allowed := map[string][]string{}
	for _, rt := range routes {
		mux.Handle(rt.method+" "+rt.path, s.op(rt.op, rt.h))
		allowed[rt.path] = append(allowed[rt.path], rt.method)
	}
	// A known path with another method is 405; any other path is 404. Both in Pinpoint's shape.
	for path, methods := range allowed {
		allow := strings.Join(methods, ", ")
		mux.Handle(path, s.op("MethodNotAllowed", func(w http.ResponseWriter, r *http.Request, _ []byte) error {
			w.Header().Set("Allow", allow)
			return pinfold.Errorf(pinfold.EMETHOD, "%s is not allowed on %s; allowed: %s", r.Method, r.URL.Path, allow)
		}))
	}
	mux.Handle("/", s.op("NotFound", func(w http.ResponseWriter, r *http.Request, _ []byte) error {
		return pinfold.Errorf(pinfold.ENOTFOUND, "no operation at %s %s", r.Method, r.URL.Path)
	}))
}
