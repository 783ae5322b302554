import { Module } from "@nestjs/common";
import { TypeOrmModule } from "@nestjs/typeorm";
import { Note } from "./note.entity";
import { NotesController } from "./notes.controller";
import { NotesService } from "./notes.service";

// forFeature registers the entity; `autoLoadEntities: true` in the root options adds it to the DataSource.

@Module({
  imports: [TypeOrmModule.forFeature([Note])],
  controllers: [NotesController],
  providers: [NotesService],
})
export class NotesModule {}
