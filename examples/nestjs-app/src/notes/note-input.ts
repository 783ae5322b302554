import { BadRequestException } from "@nestjs/common";

// Request bodies, checked by hand (no class-validator, to keep the example's dependencies to Nest,
// TypeORM and mssql). A bad body is a 400 naming the field.

export interface CreateNoteInput {
  title: string;
  body: string | null;
}

export type UpdateNoteInput = Partial<CreateNoteInput & { done: boolean }>;

function record(body: unknown): Record<string, unknown> {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new BadRequestException("the body must be a JSON object");
  }
  return body as Record<string, unknown>;
}

function title(value: unknown): string {
  if (typeof value !== "string" || value.trim() === "" || value.length > 200) {
    throw new BadRequestException('"title" must be a non-empty string of at most 200 characters');
  }
  return value;
}

function text(value: unknown): string | null {
  if (value === null) return null;
  if (typeof value !== "string" || value.length > 2000) {
    throw new BadRequestException('"body" must be a string of at most 2000 characters, or null');
  }
  return value;
}

function onlyKnownKeys(input: Record<string, unknown>, known: readonly string[]): void {
  const unknown = Object.keys(input).filter((key) => !known.includes(key));
  if (unknown.length > 0) {
    throw new BadRequestException(`unknown field(s): ${unknown.join(", ")}; expected ${known.join(", ")}`);
  }
}

export function createNoteInput(body: unknown): CreateNoteInput {
  const input = record(body);
  onlyKnownKeys(input, ["title", "body"]);
  return { title: title(input.title), body: input.body === undefined ? null : text(input.body) };
}

export function updateNoteInput(body: unknown): UpdateNoteInput {
  const input = record(body);
  onlyKnownKeys(input, ["title", "body", "done"]);
  const update: UpdateNoteInput = {};
  if (input.title !== undefined) update.title = title(input.title);
  if (input.body !== undefined) update.body = text(input.body);
  if (input.done !== undefined) {
    if (typeof input.done !== "boolean") throw new BadRequestException('"done" must be true or false');
    update.done = input.done;
  }
  return update;
}
