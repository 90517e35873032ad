package event

// ParseKind returns the Kind named s (Kind.String's inverse); ok is false
// for an unknown name.
func ParseKind(s string) (Kind, bool) {
	for i, n := range kindNames {
		if n == s {
			return Kind(i), true
		}
	}
	return KindUnknown, false
}

// ParseAction returns the Action named s (Action.String's inverse); ok is
// false for an unknown name.
func ParseAction(s string) (Action, bool) {
	for i, n := range actionNames {
		if n == s {
			return Action(i), true
		}
	}
	return ActNone, false
}

// ParseOutcome returns the Outcome named s.
func ParseOutcome(s string) Outcome {
	switch s {
	case "success":
		return OutcomeSuccess
	case "failure":
		return OutcomeFailure
	}
	return OutcomeUnknown
}

// ParseEntityType returns the EntityType named s.
func ParseEntityType(s string) EntityType {
	for i, n := range entityNames {
		if n == s {
			return EntityType(i)
		}
	}
	return EntityNone
}
