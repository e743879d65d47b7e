package ui

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"net/url"
	"strconv"
)

// allowed checks that a state-changing request may proceed: actions are on, the request
// comes from this server's own pages (Origin, or failing that Referer, names this host)
// and it carries the server's CSRF token. It writes the refusal itself.
func (s *Server) allowed(w http.ResponseWriter, r *http.Request) bool {
	if s.opts.Actions == nil {
		s.fail(w, http.StatusForbidden, "Read-only", errors.New("this UI is read-only; start kgrun ui with --allow-actions to resume or prune runs from it"))
		return false
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		origin = r.Header.Get("Referer")
	}
	u, err := url.Parse(origin)
	if origin == "" || err != nil || u.Host != r.Host {
		s.fail(w, http.StatusForbidden, "Refused", errors.New("a request that changes state must come from this UI's own pages"))
		return false
	}
	if subtle.ConstantTimeCompare([]byte(r.PostFormValue("csrf")), []byte(s.token)) != 1 {
		s.fail(w, http.StatusForbidden, "Refused", errors.New("the form's token is missing or stale; reload the page and try again"))
		return false
	}
	return true
}

// resume starts kgrun resume for a run, then shows the run, which updates live.
func (s *Server) resume(w http.ResponseWriter, r *http.Request) {
	if !s.allowed(w, r) {
		return
	}
	if s.opts.Actions.Resume == nil {
		s.fail(w, http.StatusForbidden, "Refused", errors.New("resuming is not offered here"))
		return
	}
	meta, err := s.opts.Store.Run(r.PathValue("id"))
	if err != nil {
		s.fail(w, http.StatusNotFound, "No such run", err)
		return
	}
	if err := s.opts.Actions.Resume(meta); err != nil {
		s.fail(w, http.StatusInternalServerError, "Cannot resume run "+meta.ID, err)
		return
	}
	http.Redirect(w, r, "/runs/"+meta.ID, http.StatusSeeOther)
}

// prune keeps the newest runs and shows what was removed.
func (s *Server) prune(w http.ResponseWriter, r *http.Request) {
	if !s.allowed(w, r) {
		return
	}
	if s.opts.Actions.Prune == nil {
		s.fail(w, http.StatusForbidden, "Refused", errors.New("pruning is not offered here"))
		return
	}
	keep, err := strconv.Atoi(r.PostFormValue("keep"))
	if err != nil || keep < 1 {
		s.fail(w, http.StatusBadRequest, "Bad request", errors.New("keep takes how many of the newest runs to keep, 1 or more"))
		return
	}
	msg, err := s.opts.Actions.Prune(keep)
	if err != nil {
		s.fail(w, http.StatusInternalServerError, "Cannot prune", err)
		return
	}
	http.Redirect(w, r, "/runs?pruned="+url.QueryEscape(msg), http.StatusSeeOther)
}
