# kms-regions: one image for every Region; each docker-compose.yml service picks its Region.
FROM maven:3.9-eclipse-temurin-17 AS build
WORKDIR /src
COPY pom.xml .
COPY conf conf
COPY src src
RUN mvn -q -B -DskipTests package

FROM eclipse-temurin:17-jre
WORKDIR /app
COPY --from=build /src/target/kms-regions.jar /app/kms-regions.jar
COPY regions /app/regions
COPY conf /app/conf
VOLUME /data
ENTRYPOINT ["java", "-jar", "/app/kms-regions.jar"]
CMD ["--help"]
