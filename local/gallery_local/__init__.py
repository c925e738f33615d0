"""The local stack: the whole Past-Life Gallery on one machine, on moto, with no AWS account."""
