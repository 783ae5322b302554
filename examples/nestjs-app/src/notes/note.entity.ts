import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from "typeorm";

// The feature's entity (decorators: tsc emits their metadata, see tsconfig.json).

@Entity({ name: "notes" })
export class Note {
  @PrimaryGeneratedColumn()
  id: number;

  @Column({ type: "nvarchar", length: 200 })
  title: string;

  @Column({ type: "nvarchar", length: 2000, nullable: true })
  body: string | null;

  @Column({ type: "bit", default: false })
  done: boolean;

  @CreateDateColumn({ type: "datetime2" })
  createdAt: Date;

  @UpdateDateColumn({ type: "datetime2" })
  updatedAt: Date;
}
