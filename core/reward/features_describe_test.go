package reward

import "testing"

func TestDescribeFeature(t *testing.T) {
	for key, want := range map[string]string{
		"w:go":                      "the word “go”",
		"w:go to":                   "the words “go to”",
		"c:. 7":                     "the characters “. 7”",
		"s:a spider has eight legs": "the sentence “a spider has eight legs”",
		"x:legs|eight":              "“eight” in answer to “legs”",
		"len:words":                 "the number of words",
		"len:sentences":             "the number of sentences",
		"bucket 17":                 "bucket 17",
		"q:odd":                     "q:odd",
	} {
		if got := DescribeFeature(key); got != want {
			t.Errorf("DescribeFeature(%q) = %q, want %q", key, got, want)
		}
	}
}
