import { Body, Controller, Delete, Get, HttpCode, Param, ParseIntPipe, Patch, Post } from "@nestjs/common";
import type { Note } from "./note.entity";
import { createNoteInput, updateNoteInput } from "./note-input";
import { NotesService } from "./notes.service";

@Controller("notes")
export class NotesController {
  constructor(private readonly notes: NotesService) {}

  @Post()
  create(@Body() body: unknown): Promise<Note> {
    return this.notes.create(createNoteInput(body));
  }

  @Get()
  findAll(): Promise<Note[]> {
    return this.notes.findAll();
  }

  @Get(":id")
  findOne(@Param("id", ParseIntPipe) id: number): Promise<Note> {
    return this.notes.findOne(id);
  }

  @Patch(":id")
  update(@Param("id", ParseIntPipe) id: number, @Body() body: unknown): Promise<Note> {
    return this.notes.update(id, updateNoteInput(body));
  }

  @Delete(":id")
  @HttpCode(204)
  remove(@Param("id", ParseIntPipe) id: number): Promise<void> {
    return this.notes.remove(id);
  }
}
