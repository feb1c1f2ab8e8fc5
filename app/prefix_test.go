package app

import (
	"strings"
	"testing"
)

func TestWithPrefix(t *testing.T) {
	cases := []struct{ prefix, path, want string }{
		{"", "/lesson", "/lesson"},
		{"", "/", "/"},
		{"/repo", "/", "/repo/"},
		{"/repo", "/lesson", "/repo/lesson"},
		{"/repo", "/label?next=active", "/repo/label?next=active"},
		{"/repo", "/api/v1/snapshots/abc", "/repo/api/v1/snapshots/abc"},
		{"/repo", "/web/demo.snap", "/repo/web/demo.snap"},
		{"/repo", "/repo/lesson", "/repo/lesson"},       // already under the prefix
		{"/repo", "/repo", "/repo"},                     // the prefix itself
		{"/repo", "/repository", "/repo/repository"},    // a longer name is not the prefix
		{"/repo", "#main", "#main"},                     // fragment links stay
		{"/repo", "https://x.org/a", "https://x.org/a"}, // absolute URLs stay
		{"/repo", "//cdn.example/a", "//cdn.example/a"}, // scheme-relative URLs stay
		{"/a/b", "/p/x1/lead", "/a/b/p/x1/lead"},        // a deeper prefix
	}
	for _, c := range cases {
		if got := withPrefix(c.prefix, c.path); got != c.want {
			t.Errorf("withPrefix(%q, %q) = %q, want %q", c.prefix, c.path, got, c.want)
		}
	}
}

func TestWithoutPrefix(t *testing.T) {
	cases := []struct{ prefix, path, want string }{
		{"", "/s/abc", "/s/abc"},
		{"/repo", "/repo/s/abc", "/s/abc"},
		{"/repo", "/repo/", "/"},
		{"/repo", "/repo", "/"},
		{"/repo", "/repository/s/abc", "/repository/s/abc"},
		{"/repo", "/s/abc", "/s/abc"},
		{"/a/b", "/a/b/p/x1/lead", "/p/x1/lead"},
	}
	for _, c := range cases {
		if got := withoutPrefix(c.prefix, c.path); got != c.want {
			t.Errorf("withoutPrefix(%q, %q) = %q, want %q", c.prefix, c.path, got, c.want)
		}
	}
	for _, p := range []string{"", "/", "repo", "/repo/", "//repo//"} {
		got := cleanPrefix(p)
		if got != "" && (!strings.HasPrefix(got, "/") || strings.HasSuffix(got, "/")) {
			t.Errorf("cleanPrefix(%q) = %q", p, got)
		}
	}
}

// Pages prerendered for a static site under a prefix link to each other under it.
func TestPrefixedLinksInPrerender(t *testing.T) {
	SetPathPrefix("/repo")
	defer SetPathPrefix("")
	if got := appPath(PathLesson); got != "/repo/lesson" {
		t.Fatalf("appPath(%q) = %q under /repo", PathLesson, got)
	}
	if got := routePath("/repo/s/abc"); got != "/s/abc" {
		t.Fatalf("routePath = %q", got)
	}
	// A static host's directory page PATH/ is the route PATH (export-site writes
	// PATH/index.html); the root stays "/".
	for path, want := range map[string]string{"/repo/s/abc/": "/s/abc", "/repo/data/": "/data", "/repo/": "/"} {
		if got := routePath(path); got != want {
			t.Errorf("routePath(%q) = %q, want %q", path, got, want)
		}
	}
	link := projectLink{Project: "p1", Token: "t"}
	if got := link.url("/api/v1/projects/p1/tasks"); got != "/repo/api/v1/projects/p1/tasks" {
		t.Fatalf("project API path %q", got)
	}
	link.Server = "https://prefer.example"
	if got := link.url("/api/v1/projects/p1/tasks"); got != "https://prefer.example/api/v1/projects/p1/tasks" {
		t.Fatalf("project API on another server %q", got)
	}
}
