import { describeOptionValue, invalidOptionFor } from "@entra-sql/core";

// Options of this package fail with core's InvalidOptionError under this package's name.

export const invalidOption = invalidOptionFor("@entra-sql/typeorm");
export const describeValue = describeOptionValue;
