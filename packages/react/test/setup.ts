// waitFor gives up after 1 s by default; CI runs every package at once on two cores, where a job through
// MSW can take longer than that to reach a state. No test asserts a duration, so waiting longer hides nothing.
import { configure } from "@testing-library/react";

configure({ asyncUtilTimeout: 10_000 });
