"""IAM-style resource policies on CAs: the parsed document (`document`), its condition operators
(`conditions`) and the evaluator that answers "may this account do this action on this CA?"
(`evaluator`)."""
