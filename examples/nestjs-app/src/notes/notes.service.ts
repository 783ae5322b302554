import { Injectable, NotFoundException } from "@nestjs/common";
import { InjectRepository } from "@nestjs/typeorm";
import { Repository } from "typeorm";
import { Note } from "./note.entity";
import type { CreateNoteInput, UpdateNoteInput } from "./note-input";

// Repository CRUD. Nothing here knows about tokens: every connection the repository uses logged in
// with a fresh Entra token, and retires before that token expires.

@Injectable()
export class NotesService {
  constructor(@InjectRepository(Note) private readonly notes: Repository<Note>) {}

  create(input: CreateNoteInput): Promise<Note> {
    return this.notes.save(this.notes.create(input));
  }

  findAll(): Promise<Note[]> {
    return this.notes.find({ order: { id: "ASC" }, take: 100 });
  }

  async findOne(id: number): Promise<Note> {
    const note = await this.notes.findOneBy({ id });
    if (note === null) throw new NotFoundException(`note ${id} not found`);
    return note;
  }

  async update(id: number, input: UpdateNoteInput): Promise<Note> {
    const note = await this.findOne(id);
    return this.notes.save(this.notes.merge(note, input));
  }

  async remove(id: number): Promise<void> {
    const result = await this.notes.delete({ id });
    if (!result.affected) throw new NotFoundException(`note ${id} not found`);
  }
}
