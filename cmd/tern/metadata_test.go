package main

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// root is the repository root, seen from this package's directory.
const root = "../.."

func readFile(t *testing.T, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, rel))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestAppIDEverywhere keeps the application ID of main, FyneApp.toml and
// the desktop integration files in step.
func TestAppIDEverywhere(t *testing.T) {
	toml := readFile(t, "FyneApp.toml")
	if m := regexp.MustCompile(`(?m)^\s*ID\s*=\s*"([^"]*)"`).FindStringSubmatch(toml); m == nil || m[1] != appID {
		t.Errorf("FyneApp.toml ID = %v, want %q", m, appID)
	}
	icon := regexp.MustCompile(`(?m)^\s*Icon\s*=\s*"([^"]*)"`).FindStringSubmatch(toml)
	if icon == nil {
		t.Error("FyneApp.toml has no Icon")
	} else if _, err := os.Stat(filepath.Join(root, icon[1])); err != nil {
		t.Errorf("FyneApp.toml Icon: %v", err)
	}

	desktop := readFile(t, "packaging/"+appID+".desktop")
	for _, line := range []string{"Name=Tern", "Exec=tern", "Icon=" + appID, "Type=Application"} {
		if !strings.Contains(desktop, "\n"+line+"\n") {
			t.Errorf("%s.desktop lacks the line %q", appID, line)
		}
	}

	var meta struct {
		ID         string `xml:"id"`
		License    string `xml:"project_license"`
		Launchable string `xml:"launchable"`
		Binary     string `xml:"provides>binary"`
	}
	if err := xml.Unmarshal([]byte(readFile(t, "packaging/"+appID+".metainfo.xml")), &meta); err != nil {
		t.Fatalf("metainfo: %v", err)
	}
	if meta.ID != appID || meta.Launchable != appID+".desktop" || meta.Binary != "tern" || meta.License != "GPL-3.0-or-later" {
		t.Errorf("metainfo id=%q launchable=%q binary=%q license=%q, want %q, %q, tern, GPL-3.0-or-later",
			meta.ID, meta.Launchable, meta.Binary, meta.License, appID, appID+".desktop")
	}
}

// TestSupportedXEPsAgree keeps README.md's table and the DOAP file listing
// the same XEPs at the same versions.
func TestSupportedXEPsAgree(t *testing.T) {
	readme := map[string]string{}
	row := regexp.MustCompile(`(?m)^\| \[XEP-(\d{4}):[^\]]*\]\([^)]*\) \| ([^ |]+) \|`)
	for _, m := range row.FindAllStringSubmatch(readFile(t, "README.md"), -1) {
		readme[m[1]] = m[2]
	}

	var doap struct {
		Implements []struct {
			XEP struct {
				Ref struct {
					Resource string `xml:"resource,attr"`
				} `xml:"xep"`
				Version string `xml:"version"`
			} `xml:"SupportedXep"`
		} `xml:"Project>implements"`
	}
	if err := xml.Unmarshal([]byte(readFile(t, "packaging/tern.doap")), &doap); err != nil {
		t.Fatalf("tern.doap: %v", err)
	}
	num := regexp.MustCompile(`xep-(\d{4})\.html$`)
	listed := map[string]string{}
	for _, im := range doap.Implements {
		if im.XEP.Ref.Resource == "" {
			continue // an RFC
		}
		m := num.FindStringSubmatch(im.XEP.Ref.Resource)
		if m == nil {
			t.Errorf("tern.doap: unexpected XEP reference %q", im.XEP.Ref.Resource)
			continue
		}
		listed[m[1]] = im.XEP.Version
	}

	if len(readme) == 0 {
		t.Fatal("README.md: no XEP rows found in the Supported standards table")
	}
	for n, v := range readme {
		if listed[n] != v {
			t.Errorf("XEP-%s: README says version %q, tern.doap %q", n, v, listed[n])
		}
	}
	for n := range listed {
		if _, ok := readme[n]; !ok {
			t.Errorf("XEP-%s is in tern.doap but not in README.md", n)
		}
	}
}
